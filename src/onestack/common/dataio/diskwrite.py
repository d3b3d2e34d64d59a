"""Writing a large file from worker threads: every byte of a block of chunks without joining
them, and the disk's writeback started as the file grows (the object store's PUT and the image
service's upload write this way)."""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Sequence

IOV_MAX = 1024  # buffers one writev takes (Linux)


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_chunks(fd: int, chunks: Sequence[bytes | memoryview]) -> None:
    """Every byte of ``chunks``, in order: one ``writev`` per ``IOV_MAX`` of them (no join,
    no copy), the rest of a short one chunk by chunk."""
    for start in range(0, len(chunks), IOV_MAX):
        group = chunks[start : start + IOV_MAX]
        written = os.writev(fd, group)
        for chunk in group:
            if written >= len(chunk):
                written -= len(chunk)
                continue
            write_all(fd, memoryview(chunk)[written:])
            written = 0


def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    try:
        fn = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (AttributeError, OSError):  # not Linux's C library
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_SYNC_FILE_RANGE = _sync_file_range()
SYNC_FILE_RANGE_WRITE = 2  # linux/fs.h


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Have the kernel start writing ``length`` bytes of ``fd`` from ``offset`` to the disk
    now, without waiting for it (``sync_file_range``; ctypes lets go of the GIL).

    With 24 GiB of memory the kernel starts writing a file back only past ~2.4 GiB dirty
    (or after 30 s): a 1 GiB upload reached the disk in its final fsync, all of it, after
    the last byte came (~0.55 s here, a quarter of the PUT). Written back as it comes, the
    fsync finds ~nothing left (measured: 1 GiB in 1 MiB writes then fsync, 0.57 s in the
    fsync; with this every 1 MiB, 0.01 s)."""
    if _SYNC_FILE_RANGE is not None:
        _SYNC_FILE_RANGE(fd, offset, length, SYNC_FILE_RANGE_WRITE)  # failure: fsync will do


class Appender:
    """Blocks appended to a file in order, the disk's writeback started every ``step`` bytes
    (the commit's fsync then finds little left)."""

    __slots__ = ("flushed", "step", "written")

    def __init__(self, step: int) -> None:
        self.step = step
        self.written = 0  # bytes in the file
        self.flushed = 0  # bytes of them handed to the disk (start_writeback)

    def append(self, fd: int, block: Sequence[bytes | memoryview]) -> None:
        write_chunks(fd, block)
        self.written += sum(len(chunk) for chunk in block)
        if self.written - self.flushed >= self.step:
            start_writeback(fd, self.flushed, self.written - self.flushed)
            self.flushed = self.written
