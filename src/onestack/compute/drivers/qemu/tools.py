"""Running QEMU's tools: argument lists, a time limit, failures as ``DriverError``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from onestack.common.logging import get_logger
from onestack.compute.drivers.base import DriverError

log = get_logger(__name__)


def last_lines(text: bytes, count: int = 3) -> str:
    lines = [line.strip() for line in text.decode(errors="replace").splitlines() if line.strip()]
    return " | ".join(lines[-count:]) or "no message"


async def run(argv: Sequence[str], timeout: float = 600.0) -> str:
    """Run ``argv``; its standard output, or ``DriverError`` saying what failed."""
    what = " ".join(argv[:2])
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise DriverError(f"cannot run {argv[0]}: {exc.strerror}") from exc
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise DriverError(f"{what} did not finish within {timeout:.0f}s") from None
    if proc.returncode != 0:
        log.warning("%s exited %s: %s", list(argv), proc.returncode, err.decode(errors="replace"))
        raise DriverError(f"{what} failed: {last_lines(err)}")
    return out.decode(errors="replace")
