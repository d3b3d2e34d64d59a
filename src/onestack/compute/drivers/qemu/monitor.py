"""QMP, the guest's control socket, through ``qemu.qmp``; its errors become ``DriverError``.

One connection per guest, opened on first use and opened again when QEMU went away and came
back (a restarted guest is a new QEMU on the same socket path).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from qemu.qmp import EventListener, ExecuteError, QMPClient, QMPError
from qemu.qmp.protocol import Runstate

from onestack.compute.drivers.base import DriverError

CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 30.0


class CommandFailed(DriverError):
    """QEMU answered the command with an error (``error_class``: GenericError,
    DeviceNotFound, ...)."""

    def __init__(self, message: str, error_class: str) -> None:
        super().__init__(message)
        self.error_class = error_class


async def connect_unix(path: Path) -> socket.socket:
    """A connected unix socket, also when ``path`` is longer than a socket address may be
    (through the ``/proc/self/fd`` name of its directory)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setblocking(False)
    directory = os.open(path.parent, os.O_PATH | os.O_DIRECTORY)
    try:
        await asyncio.get_running_loop().sock_connect(
            sock, f"/proc/self/fd/{directory}/{path.name}"
        )
    except BaseException:
        sock.close()
        raise
    finally:
        os.close(directory)
    return sock


class Monitor:
    def __init__(self, socket: Path, name: str) -> None:
        self.socket = socket
        self.name = name
        self._client: QMPClient | None = None

    async def _connected(self) -> QMPClient:
        client = self._client
        if client is not None and client.runstate == Runstate.RUNNING:
            return client
        await self.close()
        client = QMPClient(self.name)
        try:
            sock = await asyncio.wait_for(connect_unix(self.socket), CONNECT_TIMEOUT)
            await asyncio.wait_for(client.connect(sock), CONNECT_TIMEOUT)
        except (QMPError, OSError, TimeoutError) as exc:
            with contextlib.suppress(QMPError, OSError):
                await client.disconnect()
            raise DriverError(f"the guest's monitor does not answer: {exc}") from exc
        self._client = client
        return client

    async def execute(
        self,
        command: str,
        arguments: dict[str, Any] | None = None,
        timeout: float = COMMAND_TIMEOUT,
    ) -> Any:
        client = await self._connected()
        try:
            return await asyncio.wait_for(client.execute(command, arguments), timeout)
        except ExecuteError as exc:
            raise CommandFailed(f"QEMU refused {command}: {exc}", exc.error_class) from exc
        except (QMPError, OSError, EOFError, TimeoutError) as exc:
            await self.close()
            raise DriverError(f"QEMU monitor command {command} failed: {exc!r}") from exc

    @contextlib.asynccontextmanager
    async def events(self, *names: str) -> AsyncIterator[EventListener]:
        """Listen for ``names`` while the block runs (register before causing the event)."""
        client = await self._connected()
        with client.listener(names) as listener:
            yield listener

    @staticmethod
    async def wait_for_event(
        listener: EventListener, accept: Callable[[dict[str, Any]], bool], timeout: float
    ) -> dict[str, Any]:
        async def first() -> dict[str, Any]:
            while True:
                event = dict(await listener.get())
                data = event.get("data")
                if accept(data if isinstance(data, dict) else {}):
                    return event

        try:
            return await asyncio.wait_for(first(), timeout)
        except TimeoutError:
            names = ", ".join(sorted(listener.names or ())) or "event"
            raise DriverError(f"QEMU sent no {names} within {timeout:.0f}s") from None

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(QMPError, OSError, EOFError):
                await client.disconnect()
