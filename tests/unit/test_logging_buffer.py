"""The access-log handler: access lines gathered, never reordered, never lost at flush."""

from __future__ import annotations

import io
import logging
import time

from onestack.common.logging import ACCESS_LOGGER, AccessBufferingHandler


def _record(name: str, msg: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, None, None)


def test_access_lines_wait_then_go_with_the_next_other_record() -> None:
    out = io.StringIO()
    handler = AccessBufferingHandler(out, delay=60)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.handle(_record(ACCESS_LOGGER, "GET / 200"))
    handler.handle(_record(ACCESS_LOGGER, "PUT /x 201"))
    assert out.getvalue() == ""
    handler.handle(_record("onestack.object", "reconciled"))
    assert out.getvalue() == "GET / 200\nPUT /x 201\nreconciled\n"


def test_flush_and_the_timer_write_what_waits() -> None:
    out = io.StringIO()
    handler = AccessBufferingHandler(out, delay=0.01)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.handle(_record(ACCESS_LOGGER, "GET / 200"))
    deadline = time.monotonic() + 15
    while not out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert out.getvalue() == "GET / 200\n"
    slow = AccessBufferingHandler(io.StringIO(), delay=60)
    slow.setFormatter(logging.Formatter("%(message)s"))
    slow.handle(_record(ACCESS_LOGGER, "DELETE /x 204"))
    slow.handle(_record(ACCESS_LOGGER, "HEAD /x 404", logging.WARNING))
    assert slow.stream.getvalue() == "DELETE /x 204\nHEAD /x 404\n"
    slow.handle(_record(ACCESS_LOGGER, "GET /y 200"))
    slow.flush()  # what logging.shutdown does at exit
    assert slow.stream.getvalue().endswith("GET /y 200\n")
