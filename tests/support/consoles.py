"""Waiting on a server's serial console (real guests print their progress there)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable


def wait_console(
    console: Callable[[str], str], name: str, pattern: str, timeout: float
) -> re.Match[str]:
    """Poll ``console(name)`` each second until ``pattern`` is on it; fail with the console."""
    deadline = time.monotonic() + timeout
    while True:
        found = re.search(pattern, console(name))
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{pattern!r} not on {name}'s console:\n{console(name)}")
        time.sleep(1)
