"""The host's links read over a plain rtnetlink socket, decoding only what ``Link`` holds.

pyroute2 decodes every attribute of every link (statistics, per-family settings: ~0.3 ms a
link in Python), and a round starts with a dump of the host's links: on a host with many ports
that dump was the largest part of a round. Here a dump decodes five attributes of each.
"""

from __future__ import annotations

import os
import socket
import struct

from onestack.network.drivers.linuxbridge.l2 import Link

NETLINK_ROUTE = 0
RTM_NEWLINK, RTM_GETLINK = 16, 18
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_MASTER, IFLA_LINKINFO = 1, 3, 4, 10, 18
IFLA_INFO_KIND = 1
NLA_TYPE_MASK = 0x3FFF  # without the nested / byte-order flags
IFF_UP = 0x1
_HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, sequence, port id
_IFINFO = struct.Struct("=BxHiII")  # ifinfomsg: family, type, index, flags, change
_ATTR = struct.Struct("=HH")  # rtattr: length, type


def _attributes(data: bytes, start: int, end: int) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    while start + _ATTR.size <= end:
        length, kind = _ATTR.unpack_from(data, start)
        if length < _ATTR.size:
            break
        out.setdefault(kind & NLA_TYPE_MASK, data[start + _ATTR.size : start + length])
        start += (length + 3) & ~3
    return out


def _string(raw: bytes | None) -> str:
    return raw.split(b"\0", 1)[0].decode() if raw else ""


def _link(data: bytes, start: int, end: int) -> Link:
    _, _, index, flags, _ = _IFINFO.unpack_from(data, start)
    attrs = _attributes(data, start + _IFINFO.size, end)
    info = attrs.get(IFLA_LINKINFO)
    kind = _string(_attributes(info, 0, len(info)).get(IFLA_INFO_KIND)) if info else ""
    master = attrs.get(IFLA_MASTER)
    mtu = attrs.get(IFLA_MTU)
    return Link(
        index=index,
        name=_string(attrs.get(IFLA_IFNAME)),
        kind=kind,
        master=struct.unpack("=I", master)[0] if master else None,
        mac=":".join(f"{b:02x}" for b in attrs.get(IFLA_ADDRESS, b"")),
        mtu=struct.unpack("=I", mtu)[0] if mtu else 0,
        up=bool(flags & IFF_UP),
    )


def host_links() -> list[Link]:
    """Every link of this process's network namespace (raises ``OSError``)."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE) as sock:
        sock.bind((0, 0))
        body = _IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        header = _HEADER.pack(
            _HEADER.size + len(body), RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0
        )
        sock.send(header + body)
        links: list[Link] = []
        while True:
            data = sock.recv(1 << 20)
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, kind, _, _, _ = _HEADER.unpack_from(data, offset)
                if kind == NLMSG_DONE:
                    return links
                if kind == NLMSG_ERROR:
                    code = -struct.unpack_from("=i", data, offset + _HEADER.size)[0]
                    raise OSError(code, os.strerror(code))
                if kind == RTM_NEWLINK:
                    links.append(_link(data, offset + _HEADER.size, offset + length))
                offset += (length + 3) & ~3
            if not data:
                raise OSError("netlink link dump ended without NLMSG_DONE")
