"""The QEMU guest agent: the channel an image asks for, and the agent protocol over its socket
(a stand-in agent on a unix socket answers as qemu-ga does)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from onestack.compute.drivers.base import DriverError, GuestAgentUnavailable
from onestack.compute.drivers.qemu.cmdline import build_command
from onestack.compute.drivers.qemu.guest_agent import CHANNEL, GuestAgent
from tests.unit.test_qemu_cmdline import PATHS, spec, values


def test_the_channel_is_there_only_when_the_image_asks_for_it() -> None:
    assert not any(CHANNEL in d for d in values(build_command(spec(), PATHS, "tcg"), "-device"))
    asking = replace(spec(), extra={"image:hw_qemu_guest_agent": "yes"})
    argv = build_command(asking, PATHS, "tcg")
    devices = values(argv, "-device")
    assert "virtio-serial-pci,id=virtio-serial0" in devices
    port = next(d for d in devices if d.startswith("virtserialport,"))
    assert f"name={CHANNEL}" in port and "chardev=qga0" in port
    assert any(c.startswith("socket,id=qga0,path=qga.sock,server=on,wait=off")
               for c in values(argv, "-chardev"))  # fmt: skip


class StandIn:
    """What qemu-ga answers: a stale reply first (a previous session's), then the sync."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b'{"return": {}}\n')  # left over from an earlier client
        while line := await reader.readline():
            message = json.loads(line)
            self.received.append(message)
            if message["execute"] == "guest-sync":
                reply: dict[str, Any] = {"return": message["arguments"]["id"]}
            elif message["execute"] == "guest-fsfreeze-freeze":
                reply = {"return": 2}
            elif message["execute"] == "guest-set-user-password":
                reply = {"return": {}}
            else:
                reply = {"error": {"class": "CommandNotFound", "desc": "unknown command"}}
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        writer.close()


@pytest.fixture
async def agent(tmp_path: Path) -> AsyncIterator[tuple[GuestAgent, StandIn]]:
    stand_in = StandIn()
    socket = tmp_path / "qga.sock"
    server = await asyncio.start_unix_server(stand_in.handle, str(socket))
    yield GuestAgent(socket), stand_in
    server.close()


async def test_set_user_password_sends_it_base64_uncrypted(
    agent: tuple[GuestAgent, StandIn],
) -> None:
    client, stand_in = agent
    await client.set_user_password("debian", "s3cret:pass")
    sent = stand_in.received[-1]
    assert sent["execute"] == "guest-set-user-password"
    assert sent["arguments"]["username"] == "debian" and sent["arguments"]["crypted"] is False
    assert base64.b64decode(sent["arguments"]["password"]) == b"s3cret:pass"


async def test_freeze_counts_and_errors_are_driver_errors(
    agent: tuple[GuestAgent, StandIn],
) -> None:
    client, _ = agent
    assert await client.freeze() == 2
    with pytest.raises(DriverError, match="unknown command"):
        await client.thaw()


async def test_no_channel_is_guest_agent_unavailable(tmp_path: Path) -> None:
    with pytest.raises(GuestAgentUnavailable, match="QEMU guest agent is not enabled"):
        await GuestAgent(tmp_path / "absent.sock").freeze()


async def test_an_agent_that_does_not_answer_times_out(tmp_path: Path) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    socket = tmp_path / "qga.sock"
    server = await asyncio.start_unix_server(silent, str(socket))
    try:
        with pytest.raises(DriverError, match="did not answer"):
            await GuestAgent(socket).execute("guest-ping", timeout=0.2)
    finally:
        server.close()
