"""Structured logs carrying the request id; no request bodies or headers are ever logged."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import threading
import time
from typing import Any

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        self._second = -1
        self._stamp = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        # Every request writes an access line: the date is formatted once a second, not once
        # a line (localtime and strftime were a tenth of a line's cost).
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:
            self._stamp = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = second
        return f"{self._stamp},{int(record.msecs):03d}"

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and fields:
            text += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return text


ACCESS_LOGGER = "onestack.access"


class AccessBufferingHandler(logging.StreamHandler[Any]):
    """A stream handler that gathers access lines and writes them together: at most
    ``delay`` seconds late, at once when ``limit`` bytes wait, before any other record (so
    the order holds), and at ``flush`` (``logging.shutdown`` at exit: a clean shutdown loses
    none). One write and flush per access line were a tenth of a small object PUT's event
    loop under load; a kill -9 loses at most ``delay`` seconds of access lines."""

    def __init__(self, stream: Any, delay: float = 0.2, limit: int = 64 * 1024) -> None:
        super().__init__(stream)
        self.delay = delay
        self.limit = limit
        self._pending: list[str] = []
        self._size = 0
        self._wake = threading.Event()
        self._flusher: threading.Thread | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
            if record.name != ACCESS_LOGGER or record.levelno >= logging.WARNING:
                self._pending.append(line)
                self._write_pending()
                return
            self._pending.append(line)
            self._size += len(line)
            if self._size >= self.limit:
                self._write_pending()
            elif len(self._pending) == 1:
                self._start_timer()
        except RecursionError:  # as StreamHandler.emit
            raise
        except Exception:
            self.handleError(record)

    def _write_pending(self) -> None:
        """Write the gathered lines (the handler's lock held)."""
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            self._size = 0
            self.stream.write(text)
        if self.stream and hasattr(self.stream, "flush"):
            self.stream.flush()

    def _start_timer(self) -> None:
        if self._flusher is None or not self._flusher.is_alive():
            self._flusher = threading.Thread(
                target=self._flush_later, name="log-flush", daemon=True
            )
            self._flusher.start()
        self._wake.set()

    def _flush_later(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self.delay)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        self.acquire()
        try:
            self._write_pending()
        finally:
            self.release()


def setup_logging(level: str = "INFO", fmt: str = "text", stream: Any = None) -> None:
    # No formatter here prints a record's source line, thread or process: not looking them
    # up (the logging HOWTO's "Optimization") is a fifth of each access line's cost.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = AccessBufferingHandler(stream or sys.stderr)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(JSONFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's own access log prints raw request lines; ours (onestack.access) replaces it.
    logging.getLogger("uvicorn.access").disabled = True


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)
