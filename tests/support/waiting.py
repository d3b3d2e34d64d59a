"""Polling until something the cloud does in the background has happened."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(
    what: str, check: Callable[[], Any], timeout: float = 60, interval: float = 0.3
) -> Any:
    """``check()``'s first truthy answer, asked every ``interval`` s; fails naming ``what``
    after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"no {what} within {timeout}s"
        time.sleep(interval)
