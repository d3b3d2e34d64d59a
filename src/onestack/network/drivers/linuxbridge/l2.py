"""Layer 2 through netlink (pyroute2): bridges, VXLAN devices, taps, veths into namespaces,
addresses and routes. Blocking calls: the driver runs them in a worker thread.

Every pyroute2 error is turned into ``DataplaneError`` here, where it enters.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from pyroute2 import IPRoute, netns
from pyroute2.netlink.exceptions import NetlinkError

from onestack.common.logging import get_logger
from onestack.network.drivers.linuxbridge.shell import DataplaneError

log = get_logger(__name__)

NETNS_DIR = "/var/run/netns"
CLONE_NEWNET = 0x40000000
NETLINK_ROUTE = 0

T = TypeVar("T")


@dataclass(frozen=True)
class Link:
    index: int
    name: str
    kind: str  # bridge, vxlan, tun, veth, "" for plain devices
    master: int | None
    mac: str
    mtu: int
    up: bool


@contextlib.contextmanager
def converted(what: str) -> Iterator[None]:
    try:
        yield
    except NetlinkError as exc:
        raise DataplaneError(reason=f"{what}: {os.strerror(exc.code)} ({exc.code})") from exc
    except OSError as exc:
        raise DataplaneError(reason=f"{what}: {exc}") from exc


def _link(msg: Any) -> Link:
    return Link(
        index=msg["index"],
        name=msg.get("ifname"),
        kind=msg.get(("IFLA_LINKINFO", "IFLA_INFO_KIND")) or "",
        master=msg.get("master"),
        mac=(msg.get("address") or "").lower(),
        mtu=msg.get("mtu") or 0,
        up=bool(msg["flags"] & 1),
    )


def in_netns(ns: str, make: Callable[[], T]) -> T:
    """``make()`` run in namespace ``ns``: what it creates (a socket) belongs there.

    ``setns`` moves only the calling thread, so this is a thread of its own, never one of a
    pool: it dies in the namespace it entered. (pyroute2's ``NetNS`` forks a process for
    its socket instead: 8-17 ms against ~0.5 ms here, once per namespace per round.)"""
    result: list[T | BaseException] = []

    def enter_and_make() -> None:
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
            fd = os.open(f"{NETNS_DIR}/{ns}", os.O_RDONLY | os.O_CLOEXEC)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns {ns}")
            finally:
                os.close(fd)
            result.append(make())
        except BaseException as exc:
            result.append(exc)

    thread = threading.Thread(target=enter_and_make, name=f"netns-{ns}", daemon=True)
    thread.start()
    thread.join()
    outcome = result[0]
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def ipr_in(ns: str) -> Any:
    """An ``IPRoute`` whose netlink socket was made inside namespace ``ns``."""
    sock = in_netns(ns, lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_ROUTE))
    fd = sock.detach()
    try:
        return IPRoute(fileno=fd)
    except BaseException:
        os.close(fd)
        raise


def list_netns() -> list[str]:
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def create_netns(name: str) -> bool:
    """Create the namespace unless it exists; returns whether it was created."""
    if name in list_netns():
        return False
    with converted(f"create namespace {name}"):
        netns.create(name)
    with converted(f"bring up lo in {name}"), ipr_in(name) as ns:
        ns.link("set", index=ns.link_lookup(ifname="lo")[0], state="up")
    return True


def delete_netns(name: str) -> None:
    with converted(f"delete namespace {name}"), contextlib.suppress(FileNotFoundError):
        netns.remove(name)


class Host:
    """Link operations in the host namespace or, with ``netns``, inside a namespace."""

    def __init__(self, netns_name: str | None = None) -> None:
        self.netns = netns_name
        with converted(f"open netlink {netns_name or 'host'}"):
            self.ipr: Any = ipr_in(netns_name) if netns_name else IPRoute()
        # One dump of the links up front, refreshed per name after a change: a reconcile
        # reads every device and pyroute2's decoding is the slow part.
        self._cache: dict[str, Link] | None = None
        self._stale: set[str] = set()

    def close(self) -> None:
        self.ipr.close()

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading --------------------------------------------------------------------------
    def links(self) -> dict[str, Link]:
        with converted("list links"):
            self._cache = {link.name: link for link in map(_link, self.ipr.get_links())}
            self._stale.clear()
            return dict(self._cache)

    def link(self, name: str) -> Link | None:
        if self._cache is None:
            self.links()
        assert self._cache is not None
        if name not in self._stale:
            return self._cache.get(name)
        with converted(f"look up {name}"):
            found = self.ipr.link_lookup(ifname=name)
            link = _link(self.ipr.get_links(found[0])[0]) if found else None
        self._stale.discard(name)
        if link is None:
            self._cache.pop(name, None)
        else:
            self._cache[name] = link
        return link

    def names(self) -> set[str]:
        """Every link name this handle has seen or touched (no new dump)."""
        if self._cache is None:
            self.links()
        assert self._cache is not None
        return set(self._cache) | self._stale

    def changed(self, *names: str) -> None:
        """Look these up afresh: someone else (another handle) changes them."""
        self._stale.update(names)

    def addresses(self, index: int) -> set[tuple[str, int]]:
        """Addresses of a link but IPv6 link-local ones (the kernel's, left alone)."""
        with converted("list addresses"):
            out = set()
            for msg in self.ipr.get_addr(index=index):
                addr = msg.get("IFA_ADDRESS")
                if addr and not addr.lower().startswith("fe80:"):
                    out.add((addr, msg["prefixlen"]))
            return out

    # -- changing -------------------------------------------------------------------------
    def delete(self, name: str) -> None:
        with converted(f"delete {name}"):
            try:
                self.ipr.link("del", ifname=name)
            except NetlinkError as exc:
                if exc.code not in (errno.ENODEV, errno.ENOENT):
                    raise
            finally:
                self.changed(name)

    def detach(self, link: Link) -> None:
        """Take a device off its bridge (it stays, down, for whoever made it)."""
        with converted(f"detach {link.name}"):
            self.ipr.link("set", index=link.index, master=0, state="down")
            self.changed(link.name)

    def configure(
        self,
        link: Link,
        *,
        master: int | None = None,
        mtu: int | None = None,
        mac: str | None = None,
        up: bool = True,
    ) -> None:
        """Set only what differs (each netlink set is a system call worth saving)."""
        change: dict[str, Any] = {}
        if master is not None and link.master != master:
            change["master"] = master
        if mtu and link.mtu != mtu:
            change["mtu"] = mtu
        if mac and link.mac != mac.lower():
            change["address"] = mac.lower()
        if link.up != up:
            change["state"] = "up" if up else "down"
        if change:
            with converted(f"configure {link.name} {change}"):
                self.changed(link.name)
                self.ipr.link("set", index=link.index, **change)

    def ensure_bridge(self, name: str, mtu: int) -> Link:
        link = self.link(name)
        if link is None:
            with converted(f"create bridge {name}"):
                # No STP and no forwarding delay: a port forwards as soon as it is up.
                self.changed(name)
                self.ipr.link("add", ifname=name, kind="bridge", br_forward_delay=0, br_stp_state=0)
            link = self.link(name)
            assert link is not None
        self.configure(link, mtu=mtu)
        return link

    def ensure_vxlan(
        self,
        name: str,
        vni: int,
        bridge: Link,
        mtu: int,
        *,
        group: str = "",
        local: str = "",
        device: str = "",
    ) -> None:
        link = self.link(name)
        if link is not None and link.kind != "vxlan":
            self.delete(name)
            link = None
        if link is None:
            spec: dict[str, Any] = {"vxlan_id": vni, "vxlan_port": 4789, "vxlan_learning": 1}
            if group:
                spec["vxlan_group"] = group
            if local:
                spec["vxlan_local"] = local
            if device:
                with converted(f"look up {device}"):
                    spec["vxlan_link"] = self.ipr.link_lookup(ifname=device)[0]
            with converted(f"create vxlan {name} (vni {vni})"):
                self.changed(name)
                self.ipr.link("add", ifname=name, kind="vxlan", **spec)
            link = self.link(name)
            assert link is not None
        self.configure(link, master=bridge.index, mtu=mtu)

    def ensure_tap(self, name: str, bridge: Link, mtu: int, up: bool) -> None:
        """A persistent tap for the hypervisor; a device of that name that the hypervisor (or a
        test standing in for it) made already is kept as it is and only attached."""
        link = self.link(name)
        if link is None:
            with converted(f"create tap {name}"):
                self.changed(name)
                self.ipr.link("add", ifname=name, kind="tuntap", mode="tap")
            link = self.link(name)
            assert link is not None
        self.configure(link, master=bridge.index, mtu=mtu, up=up)

    def ensure_veth(
        self, name: str, inside: Host, inner: str, bridge: Link, mtu: int, mac: str
    ) -> None:
        """A veth pair: ``name`` on the bridge, ``inner`` in ``inside``'s namespace with ``mac``."""
        ns = inside.netns
        assert ns is not None
        link = self.link(name)
        peer = inside.link(inner)
        if link is None or peer is None or link.kind != "veth":
            if link is not None:
                self.delete(name)
            if peer is not None:
                inside.delete(inner)
            with converted(f"create veth {name} -> {ns}/{inner}"):
                self.changed(name)
                inside.changed(inner)
                self.ipr.link(
                    "add", ifname=name, kind="veth", peer={"ifname": inner, "net_ns_fd": ns}
                )
            link = self.link(name)
            peer = inside.link(inner)
            assert link is not None and peer is not None
        inside.configure(peer, mtu=mtu, mac=mac)
        self.configure(link, master=bridge.index, mtu=mtu)

    def set_addresses(self, name: str, wanted: set[tuple[str, int]]) -> None:
        """Make the link's global addresses exactly ``wanted`` ((address, prefixlen) pairs)."""
        link = self.link(name)
        if link is None:
            raise DataplaneError(reason=f"{name} vanished")
        have = self.addresses(link.index)
        for address, plen in sorted(have - wanted):
            with converted(f"remove {address}/{plen} from {name}"):
                self.ipr.addr("del", index=link.index, address=address, prefixlen=plen)
        for address, plen in sorted(wanted - have):
            with converted(f"add {address}/{plen} to {name}"):
                # nodad: the address is the port's, allocated by IPAM; waiting for DAD would
                # only delay IPv6 service.
                flags = {"flags": 0x02} if ":" in address else {}
                self.ipr.addr("add", index=link.index, address=address, prefixlen=plen, **flags)

    def gateway_routes(self) -> set[tuple[str, str]]:
        """(destination CIDR, next hop) of every route with a gateway in the main table."""
        out = set()
        with converted("list routes"):
            for family in (2, 10):
                for msg in self.ipr.get_routes(family=family, table=254):
                    gw = msg.get("RTA_GATEWAY")
                    if not gw:
                        continue
                    dst = msg.get("RTA_DST") or ("0.0.0.0" if family == 2 else "::")
                    out.add((f"{dst}/{msg['dst_len']}", gw))
        return out

    def set_gateway_routes(self, wanted: set[tuple[str, str]]) -> None:
        """Routes that cannot be added (next hop unreachable) are logged and skipped: one bad
        static route must not take the router down."""
        have = self.gateway_routes()
        for dst, gw in sorted(have - wanted):
            with contextlib.suppress(NetlinkError):
                self.ipr.route("del", dst=dst, gateway=gw)
        for dst, gw in sorted(wanted - have):
            try:
                self.ipr.route("replace", dst=dst, gateway=gw)
            except NetlinkError as exc:
                log.warning("route %s via %s in %s: %s", dst, gw, self.netns, os.strerror(exc.code))
