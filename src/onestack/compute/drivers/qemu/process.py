"""The QEMU process of an instance: started detached, found again by its pidfile.

QEMU daemonizes itself (``-daemonize``): the command returns once the guest's devices and
sockets exist, with a non-zero status and a message when they could not be made, and the
daemon is no child of ours, so it outlives the agent. A pid counts as the instance's only if
that process is a QEMU whose command line carries the instance's uuid (pids are reused).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path

from onestack.compute.drivers.base import DriverError
from onestack.compute.drivers.qemu.tools import last_lines

START_TIMEOUT = 60.0


async def launch(argv: Sequence[str], cwd: Path, log: Path, timeout: float = START_TIMEOUT) -> None:
    """Run the daemonizing QEMU command line in ``cwd``; its messages are appended to ``log``."""
    with log.open("ab") as f:
        f.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(argv)}\n".encode())
        f.flush()
        start = f.tell()
        # Output goes straight to the log, never through pipes: the daemonized QEMU may keep
        # inherited descriptors open, and a reader waiting for their end would wait forever.
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=f,
                stderr=f,
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as exc:
            raise DriverError(f"cannot run {argv[0]}: {exc.strerror}") from exc
    try:
        await asyncio.wait_for(proc.wait(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise DriverError(f"QEMU did not start within {timeout:.0f}s") from None
    if proc.returncode != 0:
        with log.open("rb") as f:
            f.seek(start)
            err = f.read()
        raise DriverError(f"QEMU did not start: {last_lines(err)}")


def read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def is_ours(pid: int, uuid: str) -> bool:
    """Whether ``pid`` is a live QEMU started for instance ``uuid``."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False  # gone (a zombie's cmdline reads empty, also "not ours")
    return (
        bool(argv[0])
        and b"qemu" in Path(os.fsdecode(argv[0])).name.encode()
        and (uuid.encode() in argv)
    )


def live_pid(pidfile: Path, uuid: str) -> int | None:
    pid = read_pid(pidfile)
    return pid if pid is not None and is_ours(pid, uuid) else None


async def wait_gone(pid: int, uuid: str, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the process to end; whether it did."""
    deadline = time.monotonic() + timeout
    while is_ours(pid, uuid):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def kill(pid: int, uuid: str) -> None:
    """SIGKILL, and wait until the process is gone."""
    if not is_ours(pid, uuid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if not await wait_gone(pid, uuid, 10.0):
        raise DriverError(f"QEMU process {pid} does not end")
