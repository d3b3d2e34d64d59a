"""The QEMU guest agent (``qemu-guest-agent`` in the guest) over its virtio-serial channel.

An image with ``hw_qemu_guest_agent=yes`` gets, as with Nova's libvirt driver, a virtio-serial
port named ``org.qemu.guest_agent.0`` whose host side is a unix socket in the instance
directory. The protocol is QMP-like JSON, one object a line, with no greeting: each session
first sends ``guest-sync`` with a random id and skips whatever answers until that id comes
back (a previous client may have left a reply unread). Used to set a user's password
(``changePassword``) and to freeze and thaw the guest's file systems around a snapshot.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from pathlib import Path
from typing import Any

from onestack.compute.drivers.base import DriverError, GuestAgentUnavailable

CHANNEL = "org.qemu.guest_agent.0"
TIMEOUT = 10.0


def channel_args(socket_name: str) -> list[str]:
    """QEMU arguments: a virtio-serial controller and the agent's named port on a socket."""
    return [
        "-device", "virtio-serial-pci,id=virtio-serial0",
        "-chardev", f"socket,id=qga0,path={socket_name},server=on,wait=off",
        "-device",
        f"virtserialport,bus=virtio-serial0.0,nr=1,chardev=qga0,id=channel0,name={CHANNEL}",
    ]  # fmt: skip


class GuestAgent:
    def __init__(self, socket: Path) -> None:
        self.socket = socket

    async def execute(
        self, command: str, arguments: dict[str, Any] | None = None, timeout: float = TIMEOUT
    ) -> Any:
        if not self.socket.exists():
            raise GuestAgentUnavailable("QEMU guest agent is not enabled")
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(str(self.socket))
                try:
                    sync = secrets.randbelow(2**31)
                    await self._send(writer, "guest-sync", {"id": sync})
                    while (await self._reply(reader)).get("return") != sync:
                        pass
                    await self._send(writer, command, arguments)
                    reply = await self._reply(reader)
                finally:
                    writer.close()
        except TimeoutError:
            raise DriverError(f"the guest agent did not answer {command} in time") from None
        except OSError as exc:
            raise DriverError(f"the guest agent's channel: {exc}") from exc
        if "error" in reply:
            raise DriverError(f"{command}: {reply['error'].get('desc', reply['error'])}")
        return reply.get("return")

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, command: str, args: Any) -> None:
        message = {"execute": command, **({"arguments": args} if args else {})}
        writer.write(json.dumps(message).encode() + b"\n")
        await writer.drain()

    @staticmethod
    async def _reply(reader: asyncio.StreamReader) -> dict[str, Any]:
        while True:
            line = await reader.readline()
            if not line:
                raise DriverError("the guest agent closed its channel")
            try:
                data = json.loads(line.strip(b"\xff").decode())
            except ValueError:
                continue  # a partial line of an earlier session
            if isinstance(data, dict):
                return data

    async def set_user_password(self, user: str, password: str) -> None:
        encoded = base64.b64encode(password.encode()).decode()
        await self.execute(
            "guest-set-user-password", {"username": user, "password": encoded, "crypted": False}
        )

    async def freeze(self) -> int:
        """Freeze the guest's file systems; how many it froze."""
        return int(await self.execute("guest-fsfreeze-freeze", timeout=30) or 0)

    async def thaw(self) -> int:
        return int(await self.execute("guest-fsfreeze-thaw", timeout=30) or 0)
