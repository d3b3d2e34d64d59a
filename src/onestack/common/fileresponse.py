"""A Starlette response whose body is a region of an open file, sent by the server itself
with ASGI's ``http.response.zerocopysend`` (``sendfile.py``): the kernel moves the pages from
the page cache to the socket, reading the file ahead, and the event loop copies nothing.

Only for a server that offers the extension (``offers_zerocopy``); the caller streams the
body otherwise. The response owns the descriptor: it is closed once the body went (or failed).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from onestack.common.sendfile import ZEROCOPY


def offers_zerocopy(scope: Scope) -> bool:
    """Whether the server takes a body as a file region."""
    return ZEROCOPY in scope.get("extensions", {})


def _open_sized(path: Path, size: int) -> int | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    if os.fstat(fd).st_size != size:  # not the data the caller expects: it streams instead
        os.close(fd)
        return None
    return fd


async def open_sized(path: Path, size: int) -> int | None:
    """``path`` opened for reading (on a worker thread: a cold directory lookup waits for the
    disk) when it holds ``size`` bytes; None when it is gone or of another size."""
    return await asyncio.to_thread(_open_sized, path, size)


class FileRegionResponse(Response):
    """``length`` bytes of ``fd`` from ``offset`` as the body; the headers as given (the
    caller's ``Content-Length`` is ``length``)."""

    def __init__(
        self,
        fd: int,
        offset: int,
        length: int,
        status_code: int,
        headers: Mapping[str, str],
        media_type: str,
    ) -> None:
        super().__init__(None, status_code, {**headers, "Content-Length": str(length)}, media_type)
        self.fd = fd
        self.offset = offset
        self.length = length

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            await send(
                {"type": ZEROCOPY, "file": self.fd, "offset": self.offset, "count": self.length}
            )
        finally:
            with contextlib.suppress(OSError):
                os.close(self.fd)
