"""The QMP monitor waits for a QEMU that accepts on its socket but greets late (still starting
on a loaded host) instead of reporting the guest as having no power state."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from onestack.compute.drivers.base import DriverError
from onestack.compute.drivers.qemu import monitor as qmp

GREETING = {"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": []}}


async def late_qemu(path: Path, delay: float) -> asyncio.AbstractServer:
    """A QMP peer that accepts at once, greets after ``delay`` s and answers query-status."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(delay)
        writer.write(json.dumps(GREETING).encode() + b"\r\n")
        decoder, pending = json.JSONDecoder(), ""
        while data := await reader.read(4096):  # QMP is a stream of JSON values, no lines
            pending += data.decode()
            while pending.strip():
                request, end = decoder.raw_decode(pending.lstrip())
                pending = pending.lstrip()[end:]
                answer = {"status": "running", "running": True}
                reply = {"return": answer if request["execute"] == "query-status" else {}}
                if "id" in request:
                    reply["id"] = request["id"]
                writer.write(json.dumps(reply).encode() + b"\r\n")
        writer.close()

    return await asyncio.start_unix_server(serve, path)


async def test_a_late_greeting_within_its_timeout_is_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(qmp, "CONNECT_TIMEOUT", 0.2)
    monkeypatch.setattr(qmp, "GREETING_TIMEOUT", 3.0)
    server = await late_qemu(tmp_path / "qmp.sock", delay=0.6)
    monitor = qmp.Monitor(tmp_path / "qmp.sock", "late")
    try:
        status = await monitor.execute("query-status")
    finally:
        await monitor.close()
        server.close()
    assert status["status"] == "running"


async def test_no_greeting_at_all_is_a_driver_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(qmp, "GREETING_TIMEOUT", 0.3)
    server = await late_qemu(tmp_path / "qmp.sock", delay=1.5)
    monitor = qmp.Monitor(tmp_path / "qmp.sock", "mute")
    try:
        with pytest.raises(DriverError, match="does not answer"):
            await monitor.execute("query-status")
    finally:
        await monitor.close()
        server.close()
