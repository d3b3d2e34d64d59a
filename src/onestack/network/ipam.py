"""IP address management as pure functions: CIDRs, gateways, allocation pools, EUI-64,
overlap checks, prefix allocation from subnet pools, and picking a free range for ``public``.

Nothing here touches the database; the service layer passes the addresses in use and turns
``IpamError`` into the matching Neutron error.
"""

from __future__ import annotations

import ipaddress
import itertools
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# IPv4Address | IPv6Address: the two compare only within one version, which the parsers
# check on the way in; mypy cannot see that through the union.
IPAddress = Any

IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")
# Never handed out as a default public range: this machine's own uplink uses it.
FORBIDDEN_PUBLIC = ipaddress.ip_network("192.0.2.0/24")


class IpamError(ValueError):
    """Invalid input to an IPAM function; the message is the user-facing reason."""


@dataclass(frozen=True)
class Pool:
    start: IPAddress
    end: IPAddress

    def __contains__(self, ip: object) -> bool:
        return (
            isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address)
            and ip.version == self.start.version
            and (self.start <= ip <= self.end)
        )

    def as_dict(self) -> dict[str, str]:
        return {"start": str(self.start), "end": str(self.end)}

    def size(self) -> int:
        return int(self.end) - int(self.start) + 1


def parse_cidr(cidr: str, ip_version: int | None = None) -> IPNetwork:
    """A network in canonical form. Host bits set are cleared (``10.99.99.0/16`` is
    ``10.99.0.0/16``): Neutron's validator accepts them and stores the network address."""
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise IpamError(f"'{cidr}' is not a valid IP subnet.") from None
    if "/" not in cidr:
        raise IpamError(f"'{cidr}' is not a valid IP subnet.")
    if ip_version is not None and net.version != ip_version:
        raise IpamError(f"The CIDR {cidr} is not an IPv{ip_version} subnet.")
    if net.version == 4 and net.prefixlen > 30:
        raise IpamError(f"The CIDR {cidr} leaves no room for addresses (/30 at most).")
    if net.version == 6 and net.prefixlen > 126:
        raise IpamError(f"The CIDR {cidr} leaves no room for addresses (/126 at most).")
    return net


def parse_ip(value: str, version: int | None = None) -> IPAddress:
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        raise IpamError(f"'{value}' is not a valid IP address.") from None
    if version is not None and ip.version != version:
        raise IpamError(f"'{value}' is not an IPv{version} address.")
    return ip


def usable_range(net: IPNetwork) -> tuple[IPAddress, IPAddress]:
    """First and last assignable address: IPv4 skips network and broadcast, IPv6 skips the
    subnet-router anycast address (the first)."""
    first = net.network_address + 1
    last = net.broadcast_address - 1 if net.version == 4 else net.broadcast_address
    return first, last


def default_gateway(net: IPNetwork) -> IPAddress:
    return usable_range(net)[0]


def default_pools(net: IPNetwork, gateway: IPAddress | None) -> list[Pool]:
    """The whole usable range minus the gateway, as Neutron computes it."""
    first, last = usable_range(net)
    pools: list[Pool] = []
    if gateway is None or not (first <= gateway <= last):
        return [Pool(first, last)]
    if gateway > first:
        pools.append(Pool(first, gateway - 1))
    if gateway < last:
        pools.append(Pool(gateway + 1, last))
    return pools


def parse_pools(net: IPNetwork, raw: Sequence[dict[str, str]]) -> list[Pool]:
    """Validate explicit allocation pools: inside the subnet, ordered, non-overlapping."""
    pools: list[Pool] = []
    for item in raw:
        if not isinstance(item, dict) or "start" not in item or "end" not in item:
            raise IpamError("Allocation pools need a start and an end address.")
        start = parse_ip(str(item["start"]), net.version)
        end = parse_ip(str(item["end"]), net.version)
        if start > end:
            raise IpamError(f"The allocation pool {start}-{end} spans beyond the subnet cidr.")
        if start not in net or end not in net:
            raise IpamError(
                f"The allocation pool {start}-{end} spans beyond the subnet cidr {net}."
            )
        pools.append(Pool(start, end))
    ordered = sorted(pools, key=lambda p: p.start)
    for a, b in itertools.pairwise(ordered):
        if b.start <= a.end:
            raise IpamError(
                f"Found overlapping allocation pools: {a.start}-{a.end} and {b.start}-{b.end}."
            )
    return ordered


def gateway_in_pools(gateway: IPAddress, pools: Iterable[Pool]) -> bool:
    return any(gateway in p for p in pools)


def overlapping(net: IPNetwork, others: Iterable[str]) -> str | None:
    """The first of ``others`` (CIDRs) that overlaps ``net``, or None."""
    for cidr in others:
        other = ipaddress.ip_network(cidr)
        if other.version == net.version and net.overlaps(other):
            return cidr
    return None


def in_pools(ip: IPAddress, pools: Iterable[Pool]) -> bool:
    return any(ip in p for p in pools)


def candidates(pools: Sequence[Pool], used: set[str]) -> Iterator[IPAddress]:
    """Free addresses in pool order. Starts at the first free one (predictable, like
    Neutron's IPAM for small subnets); the caller retries on a concurrent collision."""
    for pool in pools:
        ip = pool.start
        while ip <= pool.end:
            if str(ip) not in used:
                yield ip
            ip += 1


def random_candidate(pools: Sequence[Pool], used: set[str]) -> IPAddress | None:
    """A random free address (used after a collision, so racing allocators spread out)."""
    total = sum(p.size() for p in pools)
    if total <= len(used):
        return None
    for _ in range(32):
        n = secrets.randbelow(total)
        for pool in pools:
            if n < pool.size():
                ip = pool.start + n
                if str(ip) not in used:
                    return ip
                break
            n -= pool.size()
    return next(candidates(pools, used), None)


def eui64(cidr: str, mac: str) -> ipaddress.IPv6Address:
    """The SLAAC address of ``mac`` in the /64 ``cidr`` (RFC 4291 modified EUI-64)."""
    net = ipaddress.ip_network(cidr)
    if net.version != 6:
        raise IpamError("EUI-64 addresses exist only in IPv6 subnets.")
    if net.prefixlen != 64:
        raise IpamError(f"SLAAC needs a /64 subnet, not {cidr}.")
    octets = [int(x, 16) for x in mac.split(":")]
    if len(octets) != 6:
        raise IpamError(f"'{mac}' is not a valid MAC address.")
    octets[0] ^= 0x02
    iid = [*octets[:3], 0xFF, 0xFE, *octets[3:]]
    suffix = int.from_bytes(bytes(iid), "big")
    return ipaddress.IPv6Address(int(net.network_address) | suffix)


def is_auto_address_subnet(ip_version: int, address_mode: str | None, ra_mode: str | None) -> bool:
    """True where addresses come from the MAC (SLAAC or DHCPv6-stateless)."""
    mode = address_mode or ra_mode
    return ip_version == 6 and mode in ("slaac", "dhcpv6-stateless")


def validate_ipv6_modes(ip_version: int, ra_mode: str | None, address_mode: str | None) -> None:
    if ra_mode is None and address_mode is None:
        return
    if ip_version != 6:
        raise IpamError("ipv6_ra_mode or ipv6_address_mode cannot be set on an IPv4 subnet.")
    for mode in (ra_mode, address_mode):
        if mode is not None and mode not in IPV6_MODES:
            raise IpamError(f"'{mode}' is not in {list(IPV6_MODES)}.")
    if ra_mode and address_mode and ra_mode != address_mode:
        raise IpamError(
            f"ipv6_ra_mode set to '{ra_mode}' with ipv6_address_mode set to '{address_mode}' "
            "is not valid. If both attributes are set, they must be the same value."
        )


def validate_host_routes(net: IPNetwork, routes: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for route in routes:
        if not isinstance(route, dict) or set(route) != {"destination", "nexthop"}:
            raise IpamError("A host route needs exactly a destination and a nexthop.")
        dest = ipaddress.ip_network(str(route["destination"]), strict=False)
        hop = parse_ip(str(route["nexthop"]))
        if dest.version != net.version or hop.version != net.version:
            raise IpamError(f"Host route {route} does not match the subnet's IP version.")
        out.append({"destination": str(dest), "nexthop": str(hop)})
    return out


def validate_nameservers(values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        ip = parse_ip(str(value))
        if str(ip) in out:
            raise IpamError(f"Duplicate nameserver '{value}'.")
        out.append(str(ip))
    return out


def allocate_prefix(
    pool_prefixes: Sequence[str], prefixlen: int, used: Iterable[str]
) -> IPNetwork | None:
    """The first ``/prefixlen`` inside the pool's prefixes that overlaps nothing in use."""
    taken = [ipaddress.ip_network(c) for c in used]
    for prefix in pool_prefixes:
        outer = ipaddress.ip_network(prefix)
        if prefixlen < outer.prefixlen:
            continue
        for candidate in outer.subnets(new_prefix=prefixlen):
            if not any(candidate.overlaps(t) for t in taken if t.version == candidate.version):
                return candidate
    return None


def within_prefixes(net: IPNetwork, prefixes: Sequence[str]) -> bool:
    return any(
        net.version == p.version and net.subnet_of(p)  # type: ignore[arg-type]
        for p in (ipaddress.ip_network(x) for x in prefixes)
    )


def pick_public_cidr(host_networks: Iterable[str], base: str = "10.199.0.0/16") -> str:
    """The first /24 of ``base`` that overlaps none of the host's addresses or routes
    (default routes excluded: they overlap everything) and is never 192.0.2.0/24."""
    used = []
    for cidr in host_networks:
        net = ipaddress.ip_network(cidr, strict=False)
        if net.prefixlen == 0:
            continue
        used.append(net)
    for candidate in ipaddress.ip_network(base).subnets(new_prefix=24):
        if candidate.overlaps(FORBIDDEN_PUBLIC):
            continue
        if not any(candidate.overlaps(u) for u in used if u.version == 4):
            return str(candidate)
    raise IpamError(f"No free /24 in {base} on this host; set network.public_cidr.")
