"""IPAM as pure functions: CIDRs, gateways, pools, overlaps, EUI-64, prefixes, public range."""

from __future__ import annotations

import ipaddress

import pytest

from onestack.network import ipam


def net(cidr: str) -> ipam.IPNetwork:
    return ipaddress.ip_network(cidr)


def test_parse_cidr_clears_host_bits_and_refuses_tiny_or_wrong_version() -> None:
    assert str(ipam.parse_cidr("10.0.0.0/24")) == "10.0.0.0/24"
    assert str(ipam.parse_cidr("10.99.99.0/16")) == "10.99.0.0/16"  # as Neutron stores it
    with pytest.raises(ipam.IpamError):
        ipam.parse_cidr("10.0.0.0")
    with pytest.raises(ipam.IpamError):
        ipam.parse_cidr("10.0.0.0/32")
    with pytest.raises(ipam.IpamError):
        ipam.parse_cidr("fd00::/64", ip_version=4)
    with pytest.raises(ipam.IpamError):
        ipam.parse_cidr("not-a-cidr/8")


def test_default_gateway_and_pools_v4() -> None:
    n = net("10.0.0.0/24")
    gw = ipam.default_gateway(n)
    assert str(gw) == "10.0.0.1"
    assert [p.as_dict() for p in ipam.default_pools(n, gw)] == [
        {"start": "10.0.0.2", "end": "10.0.0.254"}
    ]
    middle = ipaddress.ip_address("10.0.0.100")
    assert [p.as_dict() for p in ipam.default_pools(n, middle)] == [
        {"start": "10.0.0.1", "end": "10.0.0.99"},
        {"start": "10.0.0.101", "end": "10.0.0.254"},
    ]
    assert [p.as_dict() for p in ipam.default_pools(n, None)] == [
        {"start": "10.0.0.1", "end": "10.0.0.254"}
    ]


def test_default_pools_v6_skip_only_the_anycast_address() -> None:
    n = net("fd00::/64")
    pools = ipam.default_pools(n, ipam.default_gateway(n))
    assert [p.as_dict() for p in pools] == [
        {"start": "fd00::2", "end": "fd00::ffff:ffff:ffff:ffff"}
    ]


def test_parse_pools_validates_bounds_order_and_overlap() -> None:
    n = net("10.0.0.0/24")
    pools = ipam.parse_pools(n, [{"start": "10.0.0.50", "end": "10.0.0.60"},
                                 {"start": "10.0.0.10", "end": "10.0.0.20"}])  # fmt: skip
    assert [str(p.start) for p in pools] == ["10.0.0.10", "10.0.0.50"]
    with pytest.raises(ipam.IpamError, match="overlapping"):
        ipam.parse_pools(n, [{"start": "10.0.0.10", "end": "10.0.0.20"},
                             {"start": "10.0.0.15", "end": "10.0.0.30"}])  # fmt: skip
    with pytest.raises(ipam.IpamError, match="beyond"):
        ipam.parse_pools(n, [{"start": "10.0.0.10", "end": "10.0.1.20"}])
    with pytest.raises(ipam.IpamError):
        ipam.parse_pools(n, [{"start": "10.0.0.30", "end": "10.0.0.20"}])
    with pytest.raises(ipam.IpamError):
        ipam.parse_pools(n, [{"start": "10.0.0.30"}])
    assert ipam.gateway_in_pools(ipaddress.ip_address("10.0.0.15"), pools)
    assert not ipam.gateway_in_pools(ipaddress.ip_address("10.0.0.1"), pools)


def test_overlapping_ignores_other_versions() -> None:
    n = net("10.0.0.0/24")
    assert ipam.overlapping(n, ["10.0.1.0/24", "fd00::/64"]) is None
    assert ipam.overlapping(n, ["10.0.1.0/24", "10.0.0.128/25"]) == "10.0.0.128/25"
    assert ipam.overlapping(n, ["10.0.0.0/16"]) == "10.0.0.0/16"


def test_candidates_skip_used_and_cross_pools() -> None:
    raw = [{"start": "10.0.0.2", "end": "10.0.0.3"}, {"start": "10.0.0.9", "end": "10.0.0.9"}]
    pools = ipam.parse_pools(net("10.0.0.0/24"), raw)
    free = [str(ip) for ip in ipam.candidates(pools, {"10.0.0.2"})]
    assert free == ["10.0.0.3", "10.0.0.9"]
    assert list(ipam.candidates(pools, {"10.0.0.2", "10.0.0.3", "10.0.0.9"})) == []
    pick = ipam.random_candidate(pools, {"10.0.0.2", "10.0.0.9"})
    assert str(pick) == "10.0.0.3"
    assert ipam.random_candidate(pools, {"10.0.0.2", "10.0.0.3", "10.0.0.9"}) is None


def test_eui64_matches_rfc4291() -> None:
    # fa:16:3e:11:22:33 -> f816:3eff:fe11:2233 (U/L bit flipped).
    assert str(ipam.eui64("fd00:42::/64", "fa:16:3e:11:22:33")) == "fd00:42::f816:3eff:fe11:2233"
    assert str(ipam.eui64("2001:db8::/64", "00:00:00:00:00:01")) == "2001:db8::200:ff:fe00:1"
    with pytest.raises(ipam.IpamError):
        ipam.eui64("fd00::/56", "fa:16:3e:11:22:33")
    with pytest.raises(ipam.IpamError):
        ipam.eui64("10.0.0.0/24", "fa:16:3e:11:22:33")


def test_ipv6_modes() -> None:
    ipam.validate_ipv6_modes(6, "slaac", "slaac")
    ipam.validate_ipv6_modes(6, None, "dhcpv6-stateful")
    ipam.validate_ipv6_modes(4, None, None)
    with pytest.raises(ipam.IpamError):
        ipam.validate_ipv6_modes(4, "slaac", None)
    with pytest.raises(ipam.IpamError):
        ipam.validate_ipv6_modes(6, "slaac", "dhcpv6-stateful")
    with pytest.raises(ipam.IpamError):
        ipam.validate_ipv6_modes(6, "bogus", None)
    assert ipam.is_auto_address_subnet(6, "slaac", None)
    assert ipam.is_auto_address_subnet(6, None, "dhcpv6-stateless")
    assert not ipam.is_auto_address_subnet(6, "dhcpv6-stateful", None)
    assert not ipam.is_auto_address_subnet(4, None, None)


def test_host_routes_and_nameservers() -> None:
    n = net("10.0.0.0/24")
    routes = ipam.validate_host_routes(n, [{"destination": "10.5.0.0/16", "nexthop": "10.0.0.9"}])
    assert routes == [{"destination": "10.5.0.0/16", "nexthop": "10.0.0.9"}]
    with pytest.raises(ipam.IpamError):
        ipam.validate_host_routes(n, [{"destination": "fd00::/64", "nexthop": "10.0.0.9"}])
    with pytest.raises(ipam.IpamError):
        ipam.validate_host_routes(n, [{"destination": "10.5.0.0/16"}])
    assert ipam.validate_nameservers(["10.0.0.53", "fd00::53"]) == ["10.0.0.53", "fd00::53"]
    with pytest.raises(ipam.IpamError):
        ipam.validate_nameservers(["10.0.0.53", "10.0.0.53"])
    with pytest.raises(ipam.IpamError):
        ipam.validate_nameservers(["dns.example"])


def test_allocate_prefix_from_pool() -> None:
    prefixes = ["10.100.0.0/16"]
    first = ipam.allocate_prefix(prefixes, 26, [])
    assert str(first) == "10.100.0.0/26"
    second = ipam.allocate_prefix(prefixes, 24, ["10.100.0.0/26"])
    assert str(second) == "10.100.1.0/24"
    assert ipam.allocate_prefix(["10.100.0.0/30"], 30, ["10.100.0.0/30"]) is None
    assert ipam.allocate_prefix(prefixes, 8, []) is None  # larger than the pool
    assert ipam.within_prefixes(net("10.100.3.0/24"), prefixes)
    assert not ipam.within_prefixes(net("10.101.0.0/24"), prefixes)


def test_pick_public_cidr_avoids_host_networks() -> None:
    assert ipam.pick_public_cidr([]) == "10.199.0.0/24"
    # A default route overlaps everything and is not a reason to skip a range.
    assert ipam.pick_public_cidr(["0.0.0.0/0", "192.0.2.7/24"]) == "10.199.0.0/24"
    used = ["10.199.0.1/24", "10.199.1.0/24", "10.199.2.5/32"]
    assert ipam.pick_public_cidr(used) == "10.199.3.0/24"
    with pytest.raises(ipam.IpamError):
        ipam.pick_public_cidr(["10.199.0.0/16"])
    # The uplink range is never handed out, even as a base.
    assert ipam.pick_public_cidr([], base="192.0.2.0/23") == "192.0.3.0/24"
