"""Which process owns an upload: ``host/pid/start``, so that recovery after a crash resets
only uploads whose process is gone, never those another API process is still receiving.

``start`` is the process's start time in clock ticks since boot (field 22 of
``/proc/<pid>/stat``): with it a pid reused by a newer process does not pass for the owner.
Only owners on this host can be judged; another host's uploads are left to that host.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass


def _start_ticks(pid: int) -> int | None:
    """The start time of ``pid`` (None when there is no such process)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces and parentheses: count after the last ")".
    fields = stat[stat.rindex(b")") + 2 :].split()
    return int(fields[19])


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    start: int

    def __str__(self) -> str:
        return f"{self.host}/{self.pid}/{self.start}"

    @classmethod
    def parse(cls, text: str) -> Owner | None:
        host, _, rest = text.rpartition("/")
        host, _, pid = host.rpartition("/")
        try:
            return cls(host, int(pid), int(rest))
        except ValueError:
            return None

    @classmethod
    def this_process(cls) -> Owner:
        pid = os.getpid()
        start = _start_ticks(pid)
        assert start is not None  # /proc/self exists on Linux
        return cls(socket.gethostname(), pid, start)

    def is_alive(self) -> bool:
        """Whether the owner still runs (always True for another host's: not ours to judge)."""
        if self.host != socket.gethostname():
            return True
        return _start_ticks(self.pid) == self.start


def is_dead(owner: str | None) -> bool:
    """An upload with this owner can never finish: its process on this host is gone (or
    the row predates owners, or the value is not one we wrote)."""
    if owner is None:
        return True
    parsed = Owner.parse(owner)
    return parsed is None or not parsed.is_alive()
