"""Stand-in guests for the data-plane tests: network namespaces wired like a QEMU tap.

A guest is a namespace whose ``eth0`` (with the port's MAC) is the peer of a veth carrying the
port's tap name on the host: what QEMU does with its tap, so the driver sees what it will see
with compute. Helpers run commands in a guest, take a DHCP lease, ping, open TCP connections,
and stand in for the compute metadata API.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import random
import shutil
import string
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from onestack.network.drivers import REQUIRED_TOOLS

TOOLS = (*REQUIRED_TOOLS, "busybox")
# What every data-plane test module needs: root, the tools, and its own event loop.
DATAPLANE_MARKS = [
    pytest.mark.root,
    pytest.mark.netns,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS), reason=f"needs {', '.join(TOOLS)}"),
]


def device_prefix(first: str) -> str:
    """A device prefix of the test's own, so concurrent runs never delete each other's."""
    return first + "".join(random.choices(string.ascii_lowercase + string.digits, k=2))


UDHCPC_SCRIPT = """#!/bin/sh
# busybox udhcpc hook: record what the server sent, configure eth0 like a cloud image would.
env | grep -E '^(ip|mask|router|dns|domain|hostname|staticroutes|mtu)=' > "$0.$interface.env"
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    set -- $staticroutes
    while [ $# -ge 2 ]; do
      ip route replace "$1" via "$2" dev "$interface"
      shift 2
    done
    ;;
esac
exit 0
"""

GREETER = (
    "import socket,sys\n"
    "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(); print('listening', flush=True)\n"
    "while True:\n"
    "    c,a=s.accept(); c.sendall(('hello '+a[0]).encode()); c.close()\n"
)


@dataclass
class Proc:
    rc: int
    out: str
    err: str


async def sh(*argv: str, netns: str | None = None, timeout: float = 30.0) -> Proc:
    full = ["ip", "netns", "exec", netns, *argv] if netns else list(argv)
    proc = await asyncio.create_subprocess_exec(
        *full, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
    return Proc(proc.returncode if proc.returncode is not None else -1, out.decode(), err.decode())


async def must(*argv: str, netns: str | None = None) -> str:
    result = await sh(*argv, netns=netns)
    assert result.rc == 0, f"{argv} failed: {result.err}"
    return result.out


async def add_guest(netns: str, tap: str, mac: str, mtu: int = 1450) -> None:
    """A namespace whose eth0 (with ``mac``) is the peer of the host-side device ``tap``."""
    await must("ip", "netns", "add", netns)
    await must("ip", "link", "add", tap, "type", "veth", "peer", "name", "eth0", "netns", netns)
    await must("ip", "-n", netns, "link", "set", "eth0", "address", mac, "mtu", str(mtu), "up")
    await must("ip", "-n", netns, "link", "set", "lo", "up")


async def dhcp(netns: str, workdir: Path) -> dict[str, str]:
    """Take a lease with busybox udhcpc in the guest; return what the server sent."""
    script = workdir / "udhcpc.sh"
    if not script.exists():
        script.write_text(UDHCPC_SCRIPT)
        script.chmod(0o755)
    args = ("-i", "eth0", "-q", "-n", "-f", "-t", "6", "-T", "1", "-s", str(script))
    options = ("-O", "mtu", "-O", "staticroutes")
    result = await sh("busybox", "udhcpc", *args, *options, netns=netns)
    assert result.rc == 0, f"udhcpc in {netns}: {result.out} {result.err}"
    env = Path(f"{script}.eth0.env").read_text()
    return dict(line.split("=", 1) for line in env.splitlines() if "=" in line)


async def ping(netns: str, ip: str) -> bool:
    result = await sh("busybox", "ping", "-c", "1", "-W", "1", ip, netns=netns)
    return result.rc == 0


async def connect(ip: str, port: int, netns: str | None, timeout: float = 1.5) -> str:
    """Open a TCP connection and read the greeting: '' when it cannot connect."""
    code = (
        "import socket,sys\n"
        f"s=socket.create_connection(({ip!r},{port}),timeout={timeout})\n"
        "print(s.recv(100).decode())\n"
    )
    result = await sh(sys.executable, "-c", code, netns=netns, timeout=10)
    return result.out.strip() if result.rc == 0 else ""


async def start_greeter(netns: str | None, port: int) -> asyncio.subprocess.Process:
    """A tiny TCP server answering 'hello <client address>'."""
    return await start_listening(netns, sys.executable, "-c", GREETER, str(port))


async def start_listening(
    netns: str | None, *argv: str, timeout: float = 30.0
) -> asyncio.subprocess.Process:
    """A server process (its first line of output says it listens), once it listens: a
    fixed pause (0.3 s) was shorter than Python's start on a loaded host, and the first
    connection was refused."""
    full = ["ip", "netns", "exec", netns, *argv] if netns else list(argv)
    proc = await asyncio.create_subprocess_exec(*full, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout)
    except TimeoutError:
        line = b""
    if not line:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"{argv[:3]} did not start listening within {timeout}s")
    return proc


async def http_get(netns: str, url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """GET from inside a guest: (status, body); status 0 when nothing answered."""
    code = (
        "import sys, json, urllib.request, urllib.error\n"
        "req = urllib.request.Request(sys.argv[1], headers=json.loads(sys.argv[2]))\n"
        "try:\n"
        "    r = urllib.request.urlopen(req, timeout=5)\n"
        "    print(r.status); print(r.read().decode())\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(e.code)\n"
    )
    result = await sh(sys.executable, "-c", code, url, json.dumps(headers or {}), netns=netns)
    if result.rc != 0:
        return 0, result.err
    status, _, body = result.out.partition("\n")
    return int(status), body.strip()


@dataclass
class MetadataStandIn:
    """The compute metadata API on 127.0.0.1: checks the signature, echoes who asked."""

    secret: str
    server: asyncio.Server | None = None
    requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/compute-metadata"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        lines = head.split("\r\n")
        headers = {
            k.strip().lower(): v.strip()
            for k, _, v in (line.partition(":") for line in lines[1:] if line)
        }
        headers["path"] = lines[0].split(" ")[1]
        self.requests.append(headers)
        instance = headers.get("x-instance-id", "")
        expected = hmac.new(self.secret.encode(), instance.encode(), hashlib.sha256).hexdigest()
        if headers.get("x-instance-id-signature") != expected:
            body, status = b"bad signature", "403 Forbidden"
        else:
            body = f"{instance} {headers.get('x-forwarded-for')} {headers['path']}".encode()
            status = "200 OK"
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()


def owned_leftovers(prefix: str) -> list[str]:
    """Every link, namespace, iptables line and ipset that carries ``prefix``."""
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    chains = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    chains += subprocess.run(["ip6tables-save"], capture_output=True, text=True).stdout
    sets = subprocess.run(["ipset", "list", "-n"], capture_output=True, text=True).stdout
    found = [
        f"link {line.split(':')[1].strip()}"
        for line in links.splitlines()
        if line.split(":")[1].strip().split("@")[0].startswith(prefix)
    ]
    found += [f"netns {n.split()[0]}" for n in netns.splitlines() if n.startswith(f"{prefix}-")]
    found += [
        f"iptables {line}"
        for line in chains.splitlines()
        if f" {prefix}" in line or f":{prefix}" in line or prefix.upper() + "-" in line
    ]
    found += [f"ipset {s}" for s in sets.split() if s.startswith(prefix)]
    return found
