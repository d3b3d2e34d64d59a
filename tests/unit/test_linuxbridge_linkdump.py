"""The host's link dump over a plain netlink socket reads what pyroute2 reads."""

from __future__ import annotations

import struct

import pytest
from pyroute2 import IPRoute

from onestack.network.drivers.linuxbridge import l2, linkdump


def test_host_links_match_pyroute2() -> None:
    with IPRoute() as ipr:
        expected = sorted(map(l2._link, ipr.get_links()), key=lambda link: link.index)
    got = sorted(linkdump.host_links(), key=lambda link: link.index)
    assert got == expected
    assert any(link.name == "lo" and link.up for link in got)


def _attr(kind: int, payload: bytes) -> bytes:
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * (-length % 4)


def test_one_message_decoded() -> None:
    info = _attr(linkdump.IFLA_INFO_KIND, b"bridge\0")
    body = linkdump._IFINFO.pack(0, 1, 42, linkdump.IFF_UP, 0) + b"".join(
        [
            _attr(linkdump.IFLA_IFNAME, b"osb123\0"),
            _attr(linkdump.IFLA_MTU, struct.pack("=I", 1450)),
            _attr(linkdump.IFLA_MASTER, struct.pack("=I", 7)),
            _attr(linkdump.IFLA_ADDRESS, bytes.fromhex("fa163e0000ab")),
            _attr(linkdump.IFLA_LINKINFO | 0x8000, info),  # NLA_F_NESTED set
        ]
    )
    link = linkdump._link(body, 0, len(body))
    assert link == l2.Link(42, "osb123", "bridge", 7, "fa:16:3e:00:00:ab", 1450, True)


def test_absent_attributes() -> None:
    body = linkdump._IFINFO.pack(0, 1, 3, 0, 0) + _attr(linkdump.IFLA_IFNAME, b"x\0")
    link = linkdump._link(body, 0, len(body))
    assert (link.kind, link.master, link.mac, link.mtu, link.up) == ("", None, "", 0, False)


@pytest.mark.parametrize("code", [1, 95])
def test_error_message_raises(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    error = linkdump._HEADER.pack(36, linkdump.NLMSG_ERROR, 0, 1, 0) + struct.pack("=i", -code)
    error += b"\0" * 16

    class Sock:
        def __init__(self, *args: object) -> None: ...
        def __enter__(self) -> Sock:
            return self

        def __exit__(self, *exc: object) -> None: ...
        def bind(self, address: object) -> None: ...
        def send(self, data: bytes) -> None: ...
        def recv(self, size: int) -> bytes:
            return error

    monkeypatch.setattr(linkdump.socket, "socket", Sock)
    with pytest.raises(OSError) as caught:
        linkdump.host_links()
    assert caught.value.errno == code
