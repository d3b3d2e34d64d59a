"""Incoming measures on a Redis server, shared by every API and processing host: one list
per metric (``onestack:incoming:<metric>``) and a set of the metrics with measures queued.

Speaks RESP over one socket per thread (no client library needed)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable
from urllib.parse import urlsplit

from onestack.metering.drivers.base import IncomingStore, StorageError

PREFIX = b"onestack:incoming:"
PENDING = b"onestack:incoming-pending"
Reply = bytes | int | list["Reply"] | None


class RespConnection:
    def __init__(self, host: str, port: int, db: int, password: str | None) -> None:
        try:
            self.sock = socket.create_connection((host, port), timeout=10)
        except OSError as exc:
            raise StorageError(f"cannot reach redis at {host}:{port}: {exc}") from exc
        self.reader = self.sock.makefile("rb")
        if password:
            self.execute([b"AUTH", password.encode()])
        if db:
            self.execute([b"SELECT", str(db).encode()])

    @staticmethod
    def encode(args: list[bytes]) -> bytes:
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
        return b"".join(parts)

    def pipeline(self, commands: list[list[bytes]]) -> list[Reply]:
        try:
            self.sock.sendall(b"".join(self.encode(c) for c in commands))
            return [self._reply() for _ in commands]
        except OSError as exc:
            raise StorageError(f"redis: {exc}") from exc

    def execute(self, args: list[bytes]) -> Reply:
        return self.pipeline([args])[0]

    def _reply(self) -> Reply:
        line = self.reader.readline()
        if not line:
            raise StorageError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest
        if kind == b"-":
            raise StorageError(f"redis: {rest.decode(errors='replace')}")
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            data = self.reader.read(size + 2)
            return data[:-2]
        if kind == b"*":
            count = int(rest)
            return None if count < 0 else [self._reply() for _ in range(count)]
        raise StorageError(f"redis: unexpected reply {line[:20]!r}")


class RedisIncoming(IncomingStore):
    name = "redis"

    def __init__(self, url: str) -> None:
        parts = urlsplit(url or "redis://127.0.0.1:6379/0")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 6379
        self.db = int(parts.path.strip("/") or 0)
        self.password = parts.password
        self.local = threading.local()
        self._conn()  # fail at start when the server is not there

    def _conn(self) -> RespConnection:
        conn: RespConnection | None = getattr(self.local, "conn", None)
        if conn is None:
            conn = RespConnection(self.host, self.port, self.db, self.password)
            self.local.conn = conn
        return conn

    def _run(self, commands: list[list[bytes]]) -> list[Reply]:
        try:
            return self._conn().pipeline(commands)
        except StorageError:
            self.local.conn = None
            raise

    def add(self, metric_id: str, blob: bytes) -> None:
        self.add_many([(metric_id, blob)])

    def add_many(self, batches: Iterable[tuple[str, bytes]]) -> None:
        commands: list[list[bytes]] = []
        for metric_id, blob in batches:
            key = metric_id.encode()
            commands.append([b"RPUSH", PREFIX + key, blob])
            commands.append([b"SADD", PENDING, key])
        if commands:
            self._run(commands)

    def pending(self, limit: int = 10000) -> list[str]:
        reply = self._run([[b"SRANDMEMBER", PENDING, str(limit).encode()]])[0]
        return (
            [m.decode() for m in reply if isinstance(m, bytes)] if isinstance(reply, list) else []
        )

    def take(self, metric_id: str) -> tuple[list[bytes], object]:
        reply = self._run([[b"LRANGE", PREFIX + metric_id.encode(), b"0", b"-1"]])[0]
        blobs = [b for b in reply if isinstance(b, bytes)] if isinstance(reply, list) else []
        return blobs, len(blobs)

    def done(self, metric_id: str, token: object) -> None:
        assert isinstance(token, int)
        key = PREFIX + metric_id.encode()
        replies = self._run([[b"LTRIM", key, str(token).encode(), b"-1"], [b"LLEN", key]])
        if replies[1] == 0:
            # A batch pushed between LLEN and SREM re-adds the metric with its own SADD.
            self._run([[b"SREM", PENDING, metric_id.encode()]])

    def delete(self, metric_id: str) -> None:
        key = metric_id.encode()
        self._run([[b"DEL", PREFIX + key], [b"SREM", PENDING, key]])

    def backlog(self) -> tuple[int, int]:
        metrics = self.pending(1_000_000)
        if not metrics:
            return 0, 0
        replies = self._run([[b"LLEN", PREFIX + m.encode()] for m in metrics])
        return len(metrics), sum(r for r in replies if isinstance(r, int))

    def close(self) -> None:
        conn: RespConnection | None = getattr(self.local, "conn", None)
        if conn is not None:
            conn.sock.close()
            self.local.conn = None
