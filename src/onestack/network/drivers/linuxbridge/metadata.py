"""The metadata proxy: 169.254.169.254:80 in each DHCP namespace, served by the agent process.

A listening socket keeps the namespace it was created in, so each one is made by a short-lived
thread that has entered the namespace (``setns`` is per thread) and is then served from the
agent's asyncio loop. For each request the guest is identified by the namespace's network and
the connection's source address, never by anything it sends: ``lookup(network_id, ip)`` gives
its port, and the request goes to the compute metadata API with the headers Nova expects from
Neutron's metadata agent (``X-Instance-ID``, ``X-Tenant-ID``, ``X-Forwarded-For``,
``X-Instance-ID-Signature`` = hex HMAC-SHA256 of the instance id with the shared secret).
Headers of those names sent by the guest are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import re
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from onestack.common.logging import get_logger
from onestack.network.drivers.base import Port
from onestack.network.drivers.linuxbridge.l2 import in_netns
from onestack.network.drivers.linuxbridge.shell import DataplaneError

log = get_logger(__name__)

PortLookup = Callable[[str, str], Awaitable[Port | None]]
MAX_HEAD = 64 * 1024
_UNSAFE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # control characters but TAB
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")  # an HTTP header name (lower-cased)
MAX_BODY = 1024 * 1024
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}
IDENTITY_HEADERS = {
    "x-instance-id",
    "x-instance-id-signature",
    "x-tenant-id",
    "x-forwarded-for",
    "x-neutron-network-id",
    "x-neutron-router-id",
}


def sign(instance_id: str, secret: str) -> str:
    return hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).hexdigest()


def socket_in_netns(ns: str, address: str, port: int) -> socket.socket:
    """A listening TCP socket created inside namespace ``ns``."""

    def make() -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((address, port))
            sock.listen(128)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return sock

    try:
        return in_netns(ns, make)
    except Exception as exc:
        raise DataplaneError(reason=f"metadata socket in {ns}: {exc}") from exc


def _response(status: int, reason: str, body: str = "") -> bytes:
    data = body.encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + data


class MetadataProxy:
    """One listener per DHCP namespace, all forwarding to ``url``."""

    def __init__(self, url: str, secret: str, address: str, port: int) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise DataplaneError(reason=f"metadata_url {url!r}: only http://host[:port]/path")
        self.backend = (parts.hostname, parts.port or 80)
        self.base_path = parts.path.rstrip("/")
        self.secret = secret
        self.address = address
        self.port = port
        self.lookup: PortLookup | None = None
        self._servers: dict[str, tuple[str, asyncio.Server]] = {}  # network id -> (ns, server)

    def networks(self) -> set[str]:
        return set(self._servers)

    def serving(self, network_id: str) -> bool:
        entry = self._servers.get(network_id)
        return entry is not None and entry[1].is_serving()

    async def ensure(self, network_id: str, ns: str) -> None:
        current = self._servers.get(network_id)
        if current is not None and current[0] == ns and current[1].is_serving():
            return
        await self.remove(network_id)
        sock = await asyncio.to_thread(socket_in_netns, ns, self.address, self.port)

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._handle(network_id, reader, writer)

        server = await asyncio.start_server(handle, sock=sock)
        self._servers[network_id] = (ns, server)

    async def remove(self, network_id: str) -> None:
        entry = self._servers.pop(network_id, None)
        if entry is not None:
            entry[1].close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(entry[1].wait_closed(), 1.0)

    async def close(self) -> None:
        for network_id in list(self._servers):
            await self.remove(network_id)

    async def _handle(
        self, network_id: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            await asyncio.wait_for(self._serve(network_id, reader, writer), 60.0)
        except (
            TimeoutError,
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
        ):
            pass
        except Exception:
            log.exception("metadata proxy request failed")
            with contextlib.suppress(Exception):
                writer.write(_response(500, "Internal Server Error"))
        finally:
            with contextlib.suppress(Exception):
                await writer.drain()
                writer.close()

    async def _serve(
        self, network_id: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peer_ip = writer.get_extra_info("peername")[0]
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEAD:
            writer.write(_response(431, "Request Header Fields Too Large"))
            return
        lines = head.decode("latin-1").split("\r\n")
        # Nothing the guest sends may smuggle a line of its own (a bare LF or a NUL in the
        # request line or a header) into the request we forward with the instance's identity.
        if any(_UNSAFE.search(line) for line in lines):
            writer.write(_response(400, "Bad Request"))
            return
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError:
            writer.write(_response(400, "Bad Request"))
            return
        if not target.startswith("/") or method not in ("GET", "HEAD", "POST"):
            writer.write(_response(400, "Bad Request"))
            return
        headers: list[tuple[str, str]] = []
        length = 0
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            key = name.strip().lower()
            if not _TOKEN.fullmatch(key):
                writer.write(_response(400, "Bad Request"))
                return
            if key == "content-length":
                if not value.strip().isdigit():
                    writer.write(_response(400, "Bad Request"))
                    return
                length = int(value.strip())
            if key in HOP_BY_HOP or key in IDENTITY_HEADERS:
                continue
            headers.append((name.strip(), value.strip()))
        if length > MAX_BODY:
            writer.write(_response(413, "Request Entity Too Large"))
            return
        body = await reader.readexactly(length) if length else b""
        port = await self.lookup(network_id, peer_ip) if self.lookup else None
        if port is None or not port.device_id:
            writer.write(_response(404, "Not Found", "No instance at this address.\n"))
            return
        host, backend_port = self.backend
        headers += [
            ("Host", f"{host}:{backend_port}"),
            ("X-Forwarded-For", peer_ip),
            ("X-Instance-ID", port.device_id),
            ("X-Tenant-ID", port.project_id),
            ("X-Instance-ID-Signature", sign(port.device_id, self.secret)),
            ("Connection", "close"),
        ]
        if body or method == "POST":
            headers.append(("Content-Length", str(len(body))))
        request = f"{method} {self.base_path}{target} HTTP/1.1\r\n"
        request += "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(host, backend_port), 10.0
            )
        except (OSError, TimeoutError):
            writer.write(_response(502, "Bad Gateway", "The metadata service is unreachable.\n"))
            return
        try:
            up_writer.write(request.encode("latin-1") + body)
            await up_writer.drain()
            while chunk := await up_reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        finally:
            up_writer.close()
