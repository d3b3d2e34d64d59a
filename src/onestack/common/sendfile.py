"""ASGI's ``http.response.zerocopysend`` for uvicorn's httptools protocol (``httpserver.py``):
a body sent from a region of a file by the kernel (``sendfile``), on a worker thread.

Streaming a large file through the event loop cost a copy into the socket per byte, the
mapping or reading of each block, and the loop's turns between them: a cold 1 GiB object GET
ran at about half the disk's and a bare HTTP server's rate. ``sendfile`` moves the pages
from the page cache to the socket, with the file's read-ahead.

The message, as the extension describes it: ``{"type": "http.response.zerocopysend",
"file": <fd or file object>, "offset": int | None, "count": int | None, "more_body": bool}``,
after ``http.response.start``. When the file cannot go straight to the socket (a chunked or
HEAD response, a previous response's bytes still queued, no socket), it is read and sent as
ordinary body messages: the same bytes either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import os
import select
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

ZEROCOPY = "http.response.zerocopysend"
FALLBACK_BLOCK = 1024 * 1024
SEND_BLOCK = 64 * 1024 * 1024  # per sendfile call (the socket takes what fits anyway)
# The file's reads started this far ahead of the socket (the kernel reads them meanwhile):
# sendfile alone reads a cold file only as far as its read-ahead window, then waits for the
# disk with the socket idle; measured cold, 1 GiB here: ~330 MiB/s alone, ~520 with the reads
# asked for 128 MiB ahead, beside ~530 for the same file already in the page cache.
READ_AHEAD = 128 * 1024 * 1024
ADVISE_STEP = 8 * 1024 * 1024
# ... but only where the device's own read-ahead is short. Where it is long, the kernel's own
# read-ahead (doubled by POSIX_FADV_SEQUENTIAL) keeps ahead of sendfile by itself, in large
# folios, while pages asked for with WILLNEED come one 4 KiB page at a time (more work for
# the sending core per byte): with 8 MiB read-ahead, a cold 1 GiB here, the same 8 rounds
# alternating: 1,716-2,329 MiB/s with the kernel's own, 1,287-2,151 with WILLNEED ahead.
OWN_READ_AHEAD_ENOUGH = 4 * 1024 * 1024
STALL_SECONDS = 60.0  # a client that reads nothing for this long is dropped
_POOL: ThreadPoolExecutor | None = None


class _Head(Protocol):
    def take_head(self) -> bytes | None: ...


def _pool() -> ThreadPoolExecutor:
    """Threads of their own: a long transfer must not hold the loop's default executor."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(16, thread_name_prefix="http-sendfile")
    return _POOL


class _Gone(Exception):
    """The client went (or the server closed the connection) during the transfer."""


def send_region(
    out: int, head: bytes, fd: int, offset: int, count: int, closing: Callable[[], bool]
) -> None:
    """``head`` then ``count`` bytes of ``fd`` from ``offset`` to the (non-blocking) socket
    ``out``, waiting for it to take them. Both descriptors are this call's own duplicates
    (``_owned``), closed here when it ends."""
    end = offset + count
    try:
        advised = _advise_sequential(fd, offset, end)
        pending = memoryview(head)
        poller = select.poll()
        poller.register(out, select.POLLOUT)
        idle_since = time.monotonic()
        while pending or count:
            while advised < end and advised - offset < READ_AHEAD:
                want = min(ADVISE_STEP, end - advised)
                try:
                    os.posix_fadvise(fd, advised, want, os.POSIX_FADV_WILLNEED)
                except OSError:  # not a file that reads ahead (a pipe): sendfile alone
                    advised = end
                    break
                advised += want
            try:
                if pending:
                    pending = pending[os.write(out, pending) :]
                    continue
                sent = os.sendfile(out, fd, offset, min(count, SEND_BLOCK))
            except BlockingIOError:
                sent = -1
            except (BrokenPipeError, ConnectionError) as exc:
                raise _Gone() from exc
            if sent == 0:
                raise OSError(errno.EIO, "the file ended before the response did")
            if sent > 0:
                offset += sent
                count -= sent
                idle_since = time.monotonic()
                continue
            if closing() or time.monotonic() - idle_since > STALL_SECONDS:
                raise _Gone()
            poller.poll(1000)  # woken as soon as the socket takes more
    finally:
        _close(out, fd)


def _advise_sequential(fd: int, offset: int, end: int) -> int:
    """Tell the kernel ``fd`` is read from start to end; return the offset from which the
    sender still asks for reads ahead itself (``end``: none)."""
    try:
        os.posix_fadvise(fd, offset, end - offset, os.POSIX_FADV_SEQUENTIAL)
    except OSError:  # not a file that reads ahead (a pipe): sendfile alone
        return end
    own = device_read_ahead(os.fstat(fd).st_dev)
    return end if own is not None and own >= OWN_READ_AHEAD_ENOUGH else offset


@functools.cache
def device_read_ahead(device: int) -> int | None:
    """Bytes the block device under the filesystem ``device`` reads ahead by itself (its
    queue's ``read_ahead_kb``; a partition's is its disk's); None when there is no such
    device (tmpfs, overlay, a network filesystem)."""
    node = Path(f"/sys/dev/block/{os.major(device)}:{os.minor(device)}")
    for queue in (node / "queue", node.resolve().parent / "queue"):
        try:
            return int((queue / "read_ahead_kb").read_text()) * 1024
        except (OSError, ValueError):
            continue
    return None


def _close(*fds: int) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


async def _owned(
    loop: asyncio.AbstractEventLoop,
    sock: int,
    head: bytes,
    fd: int,
    offset: int,
    count: int,
    closing: Callable[[], bool],
) -> None:
    """``send_region`` on duplicates of the socket's and the file's descriptors, made before
    the thread starts: the loop may close its socket, and a response whose task is cancelled
    closes its file, while the thread still sends; with the numbers themselves the thread
    could then write to, or read from, another file that got the number meanwhile. The
    duplicates are closed by the thread, or here when it never started."""
    out = os.dup(sock)
    try:
        own = os.dup(fd)
    except OSError:
        os.close(out)
        raise
    job = _pool().submit(send_region, out, head, own, offset, count, closing)
    job.add_done_callback(lambda done: _close(out, own) if done.cancelled() else None)
    await asyncio.wrap_future(job, loop=loop)


def zerocopy_sender(
    cycle: Any, head: _Head, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop
) -> Callable[[dict[str, Any]], Awaitable[None]]:
    """The cycle's ``send`` with ``http.response.zerocopysend`` added."""
    original: Callable[[dict[str, Any]], Awaitable[None]] = cycle.send

    async def send(message: dict[str, Any]) -> None:
        if message["type"] != ZEROCOPY:
            await original(message)
            return
        raw = message["file"]
        fd = raw if isinstance(raw, int) else raw.fileno()
        offset = message.get("offset")
        if offset is None:
            offset = os.lseek(fd, 0, os.SEEK_CUR)
        count = message.get("count")
        if count is None:
            count = os.fstat(fd).st_size - offset
        more = bool(message.get("more_body", False))
        if cycle.scope["method"] == "HEAD":  # no body: nothing to read
            await original({"type": "http.response.body", "body": b"", "more_body": more})
            return
        sock = transport.get_extra_info("socket")
        direct = (
            sock is not None
            and cycle.response_started
            and not cycle.response_complete
            and not cycle.disconnected
            and not cycle.chunked_encoding
            and count <= cycle.expected_content_length
        )
        if not direct:
            await _read_and_send(original, loop, fd, offset, count, more)
            return
        held = head.take_head() or b""
        if transport.get_write_buffer_size():  # bytes queued before ours: keep the order
            if held:
                transport.write(held)
            await _read_and_send(original, loop, fd, offset, count, more)
            return
        try:
            await _owned(loop, sock.fileno(), held, fd, offset, count, transport.is_closing)
        except _Gone:
            cycle.disconnected = True  # as uvicorn marks it: later sends do nothing
            transport.close()
            return
        except BaseException:
            cycle.disconnected = True  # part of the body went: the connection cannot go on
            transport.close()
            raise
        cycle.expected_content_length -= count
        await original({"type": "http.response.body", "body": b"", "more_body": more})

    return send


async def _read_and_send(
    send: Callable[[dict[str, Any]], Awaitable[None]],
    loop: asyncio.AbstractEventLoop,
    fd: int,
    offset: int,
    count: int,
    more: bool,
) -> None:
    while count > 0:
        block = await loop.run_in_executor(
            _pool(), os.pread, fd, min(count, FALLBACK_BLOCK), offset
        )
        if not block:
            raise OSError(errno.EIO, "the file ended before the response did")
        offset += len(block)
        count -= len(block)
        await send({"type": "http.response.body", "body": block, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": more})
