"""The ``yaql`` intrinsic function (Heat's: ``{yaql: {expression, data}}``, the data seen
as ``$.data``).

An expression is parsed in the engine (bounded by its length) to check it up front, but
evaluated in a separate worker process: a hostile expression (an endless ``range``, a string
doubled until memory runs out) must not stall the engine's event loop or grow its memory.
The worker has an address-space limit, each evaluation a wall-clock deadline after which
the worker is killed (and started again for the next call), a result a size limit; yaql's own
iterator and memory quotas (Heat's ``limit_iterators`` and ``memory_quota``) apply inside.
The engine waits for the answer in its thread: at most ``TIMEOUT`` for the worst one."""

from __future__ import annotations

import collections.abc  # noqa: F401  (yaql 3 uses collections.abc without importing it)
import json
import os
import select
import subprocess
import sys
import threading
from functools import lru_cache
from typing import IO, Any

LIMIT_ITERATORS = 200  # Heat's [yaql] limit_iterators
MEMORY_QUOTA = 10000  # Heat's [yaql] memory_quota
MAX_EXPRESSION = 10000  # characters
TIMEOUT = 2.0  # seconds an evaluation may take
WORKER_MEMORY = 512 * 1024 * 1024  # bytes of address space for the worker
MAX_RESULT = 1024 * 1024  # bytes of JSON a result may be


class YaqlError(Exception):
    pass


@lru_cache(maxsize=1)
def _engine() -> Any:
    import yaql

    return yaql.factory.YaqlFactory().create(
        options={"yaql.limitIterators": LIMIT_ITERATORS, "yaql.memoryQuota": MEMORY_QUOTA}
    )


def parse(expression: Any) -> Any:
    """The parsed expression; ``YaqlError`` naming the problem when it does not parse."""
    if not isinstance(expression, str):
        raise YaqlError('The "expression" argument to yaql must contain a string.')
    if len(expression) > MAX_EXPRESSION:
        raise YaqlError(f"Bad expression: longer than {MAX_EXPRESSION} characters.")
    from yaql.language import exceptions

    try:
        return _engine()(expression)
    except exceptions.YaqlException as exc:
        raise YaqlError(f"Bad expression {exc}.") from None
    except Exception as exc:  # the lexer raises plain errors on some input
        raise YaqlError(f"Bad expression {exc}.") from None


# --- the engine's side --------------------------------------------------------------------


class _Worker:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            # The file alone (-I: not its directory on the path): no package to import.
            [sys.executable, "-I", __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def ask(self, expression: str, data: Any, timeout: float) -> Any:
        stdin, stdout = self.proc.stdin, self.proc.stdout
        assert stdin is not None and stdout is not None
        stdin.write(json.dumps({"expression": expression, "data": data}).encode() + b"\n")
        stdin.flush()
        line = _read_line(stdout, timeout)
        if line is None:
            raise TimeoutError
        answer = json.loads(line)
        if "error" in answer:
            raise YaqlError(answer["error"])
        return answer["value"]

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


def _read_line(stream: IO[bytes], timeout: float) -> bytes | None:
    ready, _, _ = select.select([stream], [], [], timeout)
    if not ready:
        return None
    line = stream.readline()
    if not line:
        raise YaqlError("yaql evaluation failed: the evaluator ran out of resources.")
    return line


_lock = threading.Lock()
_worker: _Worker | None = None


def evaluate(expression: str, data: Any, timeout: float = TIMEOUT) -> Any:
    """``expression`` over ``{"data": data}``, in the worker; ``YaqlError`` on a bad
    expression, an evaluation error, or one that runs out of time or memory."""
    parse(expression)
    global _worker
    with _lock:
        if _worker is None or _worker.proc.poll() is not None:
            _worker = _Worker()
        try:
            return _worker.ask(expression, data, timeout)
        except TimeoutError:
            _worker.kill()
            _worker = None
            raise YaqlError(f"yaql evaluation took longer than {timeout:g} s: stopped.") from None
        except (YaqlError, OSError, ValueError) as exc:
            if _worker.proc.poll() is not None:
                _worker = None
            raise YaqlError(str(exc)) from None


# --- the worker's side --------------------------------------------------------------------


def _serve() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    import yaql

    context = yaql.create_context()
    for line in sys.stdin:
        try:
            request = json.loads(line)
            value = parse(request["expression"]).evaluate(
                {"data": request.get("data")}, context.create_child_context()
            )
            text = json.dumps({"value": value}, default=_plain)
            if len(text) > MAX_RESULT:
                text = json.dumps({"error": "yaql result is larger than 1 MiB."})
        except MemoryError:
            text = json.dumps({"error": "yaql evaluation ran out of memory."})
        except Exception as exc:
            text = json.dumps({"error": f"yaql evaluation failed: {exc}"})
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def _plain(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)) or hasattr(value, "__iter__"):
        return list(value)
    return str(value)


if __name__ == "__main__":
    _serve()
