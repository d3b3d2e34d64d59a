"""A lean HTTP/1.1 load client for the object benchmark: keep-alive connections on asyncio
(uvloop when present), one request at a time each, Content-Length bodies only. Lean on
purpose: on a 2-core machine the client shares the CPU with the server, so the client's own
cost must stay small beside the server's.

    python bench/objload.py --url http://127.0.0.1:8770/object/v1/AUTH_x/bench \\
        --token TOKEN --method PUT --clients 16 --seconds 5 --size 4096

prints one JSON line: requests done, errors, seconds, and per-request latencies' median.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from typing import Any
from urllib.parse import urlsplit


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", "Host: bench"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method in ("PUT", "POST"):
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        data = await self.reader.readexactly(length) if length and method != "HEAD" else b""
        return status, data

    def close(self) -> None:
        self.writer.close()


async def worker(
    url: str,
    token: str,
    method: str,
    size: int,
    deadline: float,
    names: int,
    index: int,
    latencies: list[float],
    errors: list[int],
) -> None:
    parts = urlsplit(url)
    conn = await Connection.open(parts.hostname or "127.0.0.1", parts.port or 80)
    body = os.urandom(size) if method == "PUT" else b""
    headers = {"X-Auth-Token": token}
    n = 0
    try:
        while time.perf_counter() < deadline:
            name = f"o-{index}-{n % names}"
            started = time.perf_counter()
            status, _ = await conn.request(method, f"{parts.path}/{name}", headers, body)
            latencies.append(time.perf_counter() - started)
            if status >= 300:
                errors.append(status)
            n += 1
    finally:
        conn.close()


async def run(args: argparse.Namespace) -> dict[str, float]:
    latencies: list[float] = []
    errors: list[int] = []
    started = time.perf_counter()
    deadline = started + args.seconds
    await asyncio.gather(
        *(
            worker(
                args.url,
                args.token,
                args.method,
                args.size,
                deadline,
                args.names,
                i,
                latencies,
                errors,
            )
            for i in range(args.clients)
        )
    )
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else 0,
        "seconds": elapsed,
        "per_second": len(latencies) / elapsed,
        "median_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
    }


class BareServer(asyncio.Protocol):
    """The bare loopback HTTP reference: reads a PUT's body and drops it, answers a GET with
    ``size`` bytes from memory; no framework, no disk."""

    payload = b""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buffer = b""
        self.remaining = 0

    def data_received(self, data: bytes) -> None:
        if self.remaining:
            take = min(self.remaining, len(data))
            self.remaining -= take
            data = data[take:]
            if not self.remaining:
                self.transport.write(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
            if not data:
                return
        self.buffer += data
        if b"\r\n\r\n" not in self.buffer:
            return
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        self.buffer = b""
        method = head.split(b" ", 1)[0]
        if method == b"PUT":
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            self.remaining = length
            if rest:
                self.data_received(rest)
            elif not length:
                self.transport.write(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
            return
        self.transport.write(
            f"HTTP/1.1 200 OK\r\nContent-Length: {len(self.payload)}\r\n\r\n".encode()
        )
        self.transport.write(self.payload)


async def serve(port: int, size: int) -> None:
    BareServer.payload = os.urandom(min(size, 64 * 1024 * 1024)) * max(
        1, size // (64 * 1024 * 1024)
    )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(BareServer, "127.0.0.1", port)
    print("serving", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="", help="the container's URL")
    parser.add_argument("--token", default="")
    parser.add_argument("--serve", type=int, default=0, help="be the bare server on PORT")
    parser.add_argument("--method", default="GET", choices=("GET", "PUT", "HEAD"))
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--names", type=int, default=64, help="objects per client, reused")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    if args.serve:
        asyncio.run(serve(args.serve, args.size))
        return
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
