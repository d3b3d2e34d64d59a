"""The pure parts of the Linux bridge driver: names, dnsmasq files, iptables and NAT rules."""

from __future__ import annotations

import pytest

from onestack.network.drivers.base import (
    AddressPair,
    FixedIP,
    FloatingIP,
    HostRoute,
    HostState,
    Network,
    Port,
    PortForwarding,
    Router,
    RouterGateway,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
)
from onestack.network.drivers.linuxbridge import l3
from onestack.network.drivers.linuxbridge.dhcp import (
    DnsmasqFiles,
    render_addn_hosts,
    render_argv,
    render_hosts,
    render_opts,
)
from onestack.network.drivers.linuxbridge.firewall import link_local, render, render_nat
from onestack.network.drivers.linuxbridge.l3 import (
    desired_routes,
    floating_addresses,
    render_router_nat,
)
from onestack.network.drivers.linuxbridge.names import Names
from onestack.network.drivers.linuxbridge.zones import (
    MAX_ZONE,
    assign_zones,
    parse_saved,
    preferred_zone,
    render_raw,
    zoned,
)

NET = "3f1e2d4c-5b6a-4798-8a9b-0c1d2e3f4a5b"
SUB = "aaaaaaaa-0000-4000-8000-000000000001"
SUB6 = "aaaaaaaa-0000-4000-8000-000000000006"
PUB, PUBSUB = "bbbbbbbb-0000-4000-8000-000000000000", "bbbbbbbb-0000-4000-8000-000000000001"
PORT = "0123abcd-ef01-4234-8567-89abcdef0123"
SG, SG2 = "cccccccc-0000-4000-8000-000000000001", "cccccccc-0000-4000-8000-000000000002"

SUBNET = Subnet(
    SUB, NET, "10.0.0.0/24", 4, "10.0.0.1", True, ("9.9.9.9",),
    (HostRoute("172.16.0.0/16", "10.0.0.254"),),
)  # fmt: skip
SUBNET6 = Subnet(SUB6, NET, "fd00:1::/64", 6, "fd00:1::1", True, (), (), "dhcpv6-stateful")
NETWORK = Network(NET, "p1", "vxlan", 100, None, 1450, False, True, (SUBNET, SUBNET6))
PUBLIC = Network(
    PUB, "", "flat", None, "public", 1500, True, True,
    (Subnet(PUBSUB, PUB, "10.199.0.0/24", 4, "10.199.0.1", False),),
)  # fmt: skip


def port(
    pid: str = PORT,
    ip: str = "10.0.0.5",
    owner: str = "compute:nova",
    hostname: str = "",
    **kw: object,
) -> Port:
    return Port(
        id=pid, network_id=NET, project_id="p1", mac_address="fa:16:3e:00:00:05",
        fixed_ips=(FixedIP(SUB, ip),), device_owner=owner, device_id="vm-1",
        hostname=hostname, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


DHCP_PORT = Port(
    "dddddddd-0000-4000-8000-000000000001", NET, "p1", "fa:16:3e:00:00:02",
    (FixedIP(SUB, "10.0.0.2"), FixedIP(SUB6, "fd00:1::2")), "network:dhcp", "dhcp",
)  # fmt: skip


# -- names ---------------------------------------------------------------------------------------
def test_names_fit_the_kernel_limit_and_carry_the_prefix() -> None:
    names = Names("os")
    assert names.bridge(NET) == "osb3f1e2d4c5b6"
    assert names.tap(PORT) == "ost0123abcdef0"
    for prefix in ("o", "os", "tz1"):
        n = Names(prefix)
        for name in (n.bridge(NET), n.vxlan(NET), n.tap(PORT), n.dhcp_veth(PORT),
                     n.router_veth(PORT), n.gateway_veth(PORT), n.ingress_chain(PORT)):  # fmt: skip
            assert len(name) <= 15 and name.startswith(prefix)
            assert n.owns_link(name) or n.owns_chain(name)
    assert names.dhcp_ns(NET) == f"os-dhcp-{NET}"
    assert names.owns_ns(names.router_ns(PORT))


def test_names_do_not_claim_foreign_devices() -> None:
    names = Names("os")
    for foreign in (
        "eth0",
        "osb",
        "osz3f1e2d4c5b6",
        "osb3f1e2d4c5b6x",
        "docker0",
        "tz1b3f1e2d4c5b6",
    ):
        assert not names.owns_link(foreign), foreign
    assert not Names("tz").owns_link(Names("tz1").bridge(NET))
    assert not names.owns_ns("os-foo-1") and not names.owns_ns(f"xos-dhcp-{NET}")
    assert not names.owns_chain("FORWARD") and not names.owns_chain("DOCKER")
    with pytest.raises(ValueError):
        Names("OS!")


# -- dnsmasq -------------------------------------------------------------------------------------
def test_hosts_file_has_one_line_per_fixed_ip() -> None:
    ports = (port(hostname="web1"), port("p2", "10.0.0.6"), DHCP_PORT)
    text = render_hosts(NETWORK, ports, "openstacklocal")
    assert "fa:16:3e:00:00:05,web1.openstacklocal,10.0.0.5\n" in text
    assert "fa:16:3e:00:00:05,host-10-0-0-6.openstacklocal,10.0.0.6\n" in text
    assert "fa:16:3e:00:00:02,host-fd00-1--2.openstacklocal,[fd00:1::2]\n" in text
    addn = render_addn_hosts(NETWORK, ports, "openstacklocal")
    assert "10.0.0.5\tweb1.openstacklocal web1\n" in addn


def test_hosts_file_skips_subnets_without_dhcp() -> None:
    no_dhcp = Network(NET, "p1", "vxlan", 100, None, 1450, False, True,
                      (Subnet(SUB, NET, "10.0.0.0/24", 4, "10.0.0.1", False),))  # fmt: skip
    assert render_hosts(no_dhcp, (port(),), "d") == ""


def test_opts_carry_metadata_route_host_routes_and_default_route() -> None:
    text = render_opts(NETWORK, DHCP_PORT)
    tag = "tag:subnet-aaaaaaaa000"
    routes = "169.254.169.254/32,10.0.0.2,172.16.0.0/16,10.0.0.254,0.0.0.0/0,10.0.0.1"
    assert f"{tag},option:classless-static-route,{routes}\n" in text
    assert f"{tag},249,{routes}\n" in text
    assert f"{tag},option:router,10.0.0.1\n" in text
    assert f"{tag},option:dns-server,9.9.9.9\n" in text
    assert f"{tag},option:mtu,1450\n" in text


def test_a_ports_extra_dhcp_options_reach_only_its_client() -> None:
    pxe = port(dhcp_opts=((4, "bootfile-name", "pxelinux.0"), (4, "150", "10.0.0.9"),
                          (6, "bootfile-url", "tftp://[fd00::9]/boot")))  # fmt: skip
    plain = port("p2", "10.0.0.6")
    hosts = render_hosts(NETWORK, (pxe, plain, DHCP_PORT), "openstacklocal")
    assert f"fa:16:3e:00:00:05,set:port-{PORT},host-10-0-0-5.openstacklocal,10.0.0.5\n" in hosts
    assert "fa:16:3e:00:00:05,host-10-0-0-6.openstacklocal,10.0.0.6\n" in hosts
    text = render_opts(NETWORK, DHCP_PORT, (pxe, plain))
    assert f"tag:port-{PORT},option:bootfile-name,pxelinux.0\n" in text
    assert f"tag:port-{PORT},150,10.0.0.9\n" in text
    assert f"tag:port-{PORT},option6:bootfile-url,tftp://[fd00::9]/boot\n" in text
    assert "port-p2" not in text


def test_opts_without_gateway_suppress_the_router_and_default_to_own_dns() -> None:
    sub = Subnet(SUB, NET, "10.0.0.0/24", 4, None, True)
    net = Network(NET, "p1", "vxlan", 100, None, 1450, False, True, (sub,))
    text = render_opts(net, DHCP_PORT)
    assert "tag:subnet-aaaaaaaa000,option:router\n" in text
    assert "option:dns-server,10.0.0.2\n" in text
    assert "classless-static-route,169.254.169.254/32,10.0.0.2\n" in text


def test_dnsmasq_command_line(tmp_path: object) -> None:
    from pathlib import Path

    argv = render_argv(NETWORK, "ns-x", DnsmasqFiles(Path("/run/x")), "openstacklocal", 600)
    assert "--dhcp-range=set:subnet-aaaaaaaa000,10.0.0.0,static,255.255.255.0,600s" in argv
    assert "--dhcp-range=set:subnet-aaaaaaaa000,fd00:1::,static,64,600s" in argv
    for flag in ("--no-hosts", "--no-resolv", "--bind-interfaces", "--interface=ns-x",
                 "--dhcp-hostsfile=/run/x/host", "--dhcp-optsfile=/run/x/opts",
                 "--pid-file=/run/x/pid", "--leasefile-ro"):  # fmt: skip
        assert flag in argv


# -- firewall ------------------------------------------------------------------------------------
def _state(*ports: Port, groups: tuple[SecurityGroup, ...] = ()) -> HostState:
    return HostState("h", (NETWORK, PUBLIC), ports, security_groups=groups)


def test_firewall_default_deny_ingress_and_anti_spoofing() -> None:
    names = Names("os")
    p = port(
        security_group_ids=(SG,),
        allowed_address_pairs=(AddressPair("10.0.0.100/32", "fa:16:3e:aa:aa:aa"),),
    )
    rs = render(names, _state(p, groups=(SecurityGroup(SG, ()),)), 4, ["osb3f1e2d4c5b6"])
    tap, i, o, s = "ost0123abcdef0", "osi0123abcdef0", "oso0123abcdef0", "oss0123abcdef0"
    assert rs.chains == ["OS-FWD", i, o, s]
    assert f"-A OS-FWD -m physdev --physdev-out {tap} --physdev-is-bridged -j {i}" in rs.rules
    assert f"-A OS-FWD -m physdev --physdev-in {tap} --physdev-is-bridged -j {o}" in rs.rules
    ingress = [r for r in rs.rules if r.startswith(f"-A {i} ")]
    assert ingress[0] == f"-A {i} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN"
    assert ingress[-1] == f"-A {i} -j DROP"
    spoof = [r for r in rs.rules if r.startswith(f"-A {s} ")]
    assert spoof == [
        f"-A {s} -s 10.0.0.5/32 -m mac --mac-source fa:16:3e:00:00:05 -j RETURN",
        f"-A {s} -s 10.0.0.100/32 -m mac --mac-source fa:16:3e:aa:aa:aa -j RETURN",
        f"-A {s} -j DROP",
    ]
    egress = [r for r in rs.rules if r.startswith(f"-A {o} ")]
    assert egress[0].startswith(f"-A {o} -s 0.0.0.0/32 -d 255.255.255.255/32 -p udp")
    assert egress[1] == f"-A {o} -j {s}"
    assert f"-A {o} -p udp -m udp --sport 67 --dport 68 -j DROP" in egress
    # Bridged traffic of our bridges is accepted after the port chains; external routed too.
    assert "-A OS-FWD -o osb3f1e2d4c5b6 -m physdev --physdev-is-bridged -j ACCEPT" in rs.rules
    assert "-A OS-FWD -i osbbbbbbbbb000 ! -o osbbbbbbbbb000 -j ACCEPT" in rs.rules


def test_firewall_rules_from_groups() -> None:
    rules = (
        SecurityGroupRule("r1", "ingress", "IPv4", "tcp", 80, 80, "0.0.0.0/0"),
        SecurityGroupRule("r2", "ingress", "IPv4", "udp", 1000, 2000, "10.1.0.0/16"),
        SecurityGroupRule("r3", "ingress", "IPv4", "icmp", 8, 0),
        SecurityGroupRule("r4", "egress", "IPv4", "6", 443, None, "192.168.1.7"),
        SecurityGroupRule("r5", "ingress", "IPv4", None, remote_group_id=SG2),
        SecurityGroupRule("r6", "ingress", "IPv6", "tcp", 22, 22),  # not this family
    )
    groups = (
        SecurityGroup(SG, rules),
        SecurityGroup(SG2, (), member_ips=("10.0.0.9", "10.0.0.8", "fd00::9")),
    )
    rs = render(Names("os"), _state(port(security_group_ids=(SG,)), groups=groups), 4)
    i, o = "osi0123abcdef0", "oso0123abcdef0"
    assert f"-A {i} -p tcp -m tcp --dport 80 -j RETURN" in rs.rules
    assert f"-A {i} -s 10.1.0.0/16 -p udp -m udp --dport 1000:2000 -j RETURN" in rs.rules
    assert f"-A {i} -p icmp -m icmp --icmp-type 8/0 -j RETURN" in rs.rules
    assert f"-A {o} -d 192.168.1.7/32 -p tcp -m tcp --dport 443 -j RETURN" in rs.rules
    ipset = Names("os").ipset(SG2, 4)
    assert f"-A {i} -m set --match-set {ipset} src -j RETURN" in rs.rules
    assert rs.ipsets == {ipset: ("10.0.0.8", "10.0.0.9")}
    assert not any("--dport 22" in r for r in rs.rules)
    # Rules come before the final DROP of their chain.
    chain_rules = [r for r in rs.rules if r.startswith(f"-A {i} ")]
    assert chain_rules[-1] == f"-A {i} -j DROP"
    rs6 = render(Names("os"), _state(port(security_group_ids=(SG,)), groups=groups), 6)
    assert f"-A {i} -p tcp -m tcp --dport 22 -j RETURN" in rs6.rules
    assert any("--icmpv6-type 135 -j RETURN" in r for r in rs6.rules)
    ll = link_local("fa:16:3e:00:00:05")
    assert ll == "fe80::f816:3eff:fe00:5"
    assert f"-A oss0123abcdef0 -s {ll}/128 -m mac --mac-source fa:16:3e:00:00:05 -j RETURN" in (
        rs6.rules
    )


def test_port_security_disabled_gets_no_chains() -> None:
    rs = render(Names("os"), _state(port(port_security_enabled=False)), 4)
    assert rs.chains == ["OS-FWD"]
    assert not any("ost0123abcdef0" in r for r in rs.rules)


def test_restore_text_flushes_stale_chains_after_rebuilding() -> None:
    rs = render(Names("os"), _state(port()), 4)
    text = rs.text(["osiffffffffffff", "OS-FWD"])
    lines = text.splitlines()
    assert lines[0] == "*filter" and lines[-1] == "COMMIT"
    assert ":OS-FWD - [0:0]" in lines
    assert lines.index("-F osiffffffffffff") < lines.index("-X osiffffffffffff")
    assert "-X OS-FWD" not in lines


def test_external_network_masquerade_is_for_routed_traffic_only() -> None:
    assert render_nat(Names("os"), _state()) == [
        "-A OS-POST -s 10.199.0.0/24 ! -o osbbbbbbbbb000 -m physdev ! --physdev-is-bridged "
        "-j MASQUERADE"
    ]


# -- router --------------------------------------------------------------------------------------
def test_router_nat_snat_and_floating_ips() -> None:
    gw_port = Port("eeeeeeee-0000-4000-8000-000000000001", PUB, "", "fa:16:3e:00:00:99",
                   (FixedIP(PUBSUB, "10.199.0.10"),), "network:router_gateway", "r")  # fmt: skip
    iface = port("ffffffff-0000-4000-8000-000000000001", "10.0.0.1", "network:router_interface")
    router = Router(
        "r", "p1", True, RouterGateway(PUB, gw_port, True), (iface,),
        (HostRoute("172.20.0.0/16", "10.0.0.254"),),
        (FloatingIP("f", "10.199.0.20", "10.0.0.5", PORT),),
    )  # fmt: skip
    subnets = {s.id: s for n in (NETWORK, PUBLIC) for s in n.subnets}
    text = render_router_nat(router, subnets)
    qg = "qg-eeeeeeee000"
    assert "-A PREROUTING -d 10.199.0.20/32 -j DNAT --to-destination 10.0.0.5\n" in text
    assert "-A POSTROUTING -s 10.0.0.5/32 -j SNAT --to-source 10.199.0.20\n" in text
    assert f"-A POSTROUTING -s 10.0.0.0/24 -o {qg} -j SNAT --to-source 10.199.0.10\n" in text
    assert text.index("--to-source 10.199.0.20") < text.index("--to-source 10.199.0.10")
    assert desired_routes(router, subnets) == {
        ("172.20.0.0/16", "10.0.0.254"),
        ("0.0.0.0/0", "10.199.0.1"),
    }
    no_snat = Router("r", "p1", True, RouterGateway(PUB, gw_port, False), (iface,))
    assert "--to-source 10.199.0.10" not in render_router_nat(no_snat, subnets)


PF_WEB = PortForwarding("pf-1", "10.199.0.30", "tcp", 8080, "10.0.0.5", 80)
PF_DNS = PortForwarding("pf-2", "10.199.0.30", "udp", 5353, "10.0.0.6", 53)
PF_OTHER = PortForwarding("pf-3", "10.199.0.9", "tcp", 2222, "10.0.0.6", 22)


def _pf_router(*forwardings: PortForwarding, gateway: bool = True) -> Router:
    gw = RouterGateway(PUB, GW_PORT, True) if gateway else None
    return Router("r", "p1", True, gw, (IFACE,), port_forwardings=forwardings)


def test_router_nat_port_forwardings_dnat_the_forwarded_port_only() -> None:
    subnets = {s.id: s for n in (NETWORK, PUBLIC) for s in n.subnets}
    text = render_router_nat(_pf_router(PF_WEB, PF_DNS, PF_OTHER), subnets)
    web = "-d 10.199.0.30/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.0.0.5:80"
    dns = "-d 10.199.0.30/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 10.0.0.6:53"
    other = "-d 10.199.0.9/32 -p tcp -m tcp --dport 2222 -j DNAT --to-destination 10.0.0.6:22"
    lines = text.splitlines()
    # From outside and from the namespace itself; ordered by address (numerically), protocol
    # and port so that the text, and whether it is reloaded, does not depend on list order.
    assert [x for x in lines if "-j DNAT" in x] == [
        f"-A PREROUTING {other}", f"-A OUTPUT {other}",
        f"-A PREROUTING {web}", f"-A OUTPUT {web}",
        f"-A PREROUTING {dns}", f"-A OUTPUT {dns}",
    ]  # fmt: skip
    # No whole-address translation: the internal addresses leave by the router's SNAT.
    assert "--to-source 10.199.0.30" not in text
    assert "-A POSTROUTING -s 10.0.0.0/24 -o qg-eeeeeeee000 -j SNAT --to-source 10.199.0.10" in (
        lines
    )
    reordered = render_router_nat(_pf_router(PF_OTHER, PF_DNS, PF_WEB), subnets)
    assert reordered == text
    # A router without a gateway forwards nothing (its floating IPs cannot reach it).
    assert "DNAT" not in render_router_nat(_pf_router(PF_WEB, gateway=False), subnets)


def test_port_forwarding_floating_ips_are_held_by_the_gateway() -> None:
    router = Router(
        "r", "p1", True, RouterGateway(PUB, GW_PORT, True), (IFACE,),
        floating_ips=(FloatingIP("f", "10.199.0.20", "10.0.0.5", PORT),),
        port_forwardings=(PF_WEB, PF_DNS, PF_OTHER),
    )  # fmt: skip
    assert floating_addresses(router) == {
        ("10.199.0.20", 32),
        ("10.199.0.30", 32),
        ("10.199.0.9", 32),
    }
    assert floating_addresses(_pf_router()) == set()


def test_removed_forwardings_forget_their_flows(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(l3, "run", lambda argv, **kw: calls.append(list(argv)))
    routers = l3.Routers(Names("os"))
    routers._forget_flows("ns", _pf_router(PF_WEB, PF_DNS))
    assert calls == []  # nothing was there before
    moved = PortForwarding("pf-1", "10.199.0.30", "tcp", 8080, "10.0.0.7", 80)
    routers._forget_flows("ns", _pf_router(moved))
    assert sorted(calls) == [
        ["conntrack", "-D", "-p", "tcp", "--orig-dst", "10.199.0.30", "--orig-port-dst", "8080"],
        ["conntrack", "-D", "-p", "udp", "--orig-dst", "10.199.0.30", "--orig-port-dst", "5353"],
    ]


# -- conntrack zones -----------------------------------------------------------------------------
GW_PORT = Port("eeeeeeee-0000-4000-8000-000000000001", PUB, "", "fa:16:3e:00:00:99",
               (FixedIP(PUBSUB, "10.199.0.10"),), "network:router_gateway", "r")  # fmt: skip
IFACE = port("ffffffff-0000-4000-8000-000000000001", "10.0.0.1", "network:router_interface")


def _zone_state(*routers: Router) -> HostState:
    return HostState("h", (NETWORK, PUBLIC), (port(),), (DHCP_PORT,), routers)


def test_raw_rules_put_a_tenant_bridge_in_its_network_zone() -> None:
    router = Router("r", "p1", True, RouterGateway(PUB, GW_PORT, True), (IFACE,))
    text = render_raw(Names("os"), _zone_state(router), {NET: 4242})
    assert text.splitlines() == [
        "*raw",
        ":OS-ZONE - [0:0]",
        ":OS-ZOUT - [0:0]",
        "-A OS-ZONE -i osb3f1e2d4c5b6 -j CT --zone 4242",  # all bridged traffic (ports, VXLAN)
        "-A OS-ZOUT -o osb3f1e2d4c5b6 -j CT --zone 4242",  # the host's own packets on it
        "COMMIT",
    ]
    # The external network (and the router gateway veth on it) stays in the host's zone 0.
    assert "osbbbbbbbbb000" not in text and "osgeeeeeeee000" not in text


def test_raw_rules_do_not_change_with_ports() -> None:
    router = Router("r", "p1", False, None, (IFACE,))
    one = render_raw(Names("os"), _zone_state(router), {NET: 7})
    more = HostState("h", (NETWORK, PUBLIC), (port(), port("01234567-0000-4000-8000-0000000000ff")))
    assert render_raw(Names("os"), more, {NET: 7}) == one


def test_only_tenant_networks_are_zoned() -> None:
    assert zoned((PUBLIC, NETWORK)) == [NETWORK]


def test_zones_are_stable_distinct_and_kept() -> None:
    a, b = "aaaaaaaa-1111-4000-8000-000000000001", "bbbbbbbb-2222-4000-8000-000000000002"
    fresh = assign_zones([a, b], {})
    assert fresh == {a: preferred_zone(a), b: preferred_zone(b)}
    assert all(1 <= z <= MAX_ZONE for z in fresh.values())
    assert assign_zones([b, a], {}) == fresh  # no dependence on order: same zones every time
    # b's preferred zone is already a's (kept from the raw table): b takes the next one free.
    clash = assign_zones([a, b], {a: preferred_zone(b)})
    assert clash[a] == preferred_zone(b)
    assert clash[b] == preferred_zone(b) % MAX_ZONE + 1
    # A zone another cloud uses is avoided by new networks, never taken from a kept one.
    taken = {preferred_zone(a)}
    assert assign_zones([a], {}, taken)[a] != preferred_zone(a)
    assert assign_zones([a], {a: preferred_zone(a)}, taken)[a] == preferred_zone(a)
    # Out of range or duplicated kept zones are given again.
    again = assign_zones([a, b], {a: 9, b: 9})
    assert again[a] == 9 and again[b] != 9
    assert assign_zones([a], {a: 0})[a] == preferred_zone(a)


def test_zone_search_wraps_around_to_one() -> None:
    a = "aaaaaaaa-1111-4000-8000-000000000001"
    taken = set(range(preferred_zone(a), MAX_ZONE + 1))
    assert assign_zones([a], {}, taken)[a] == 1


def test_saved_raw_table_gives_back_our_zones_and_others_zones() -> None:
    names = Names("os")
    ours = render_raw(names, _zone_state(), {NET: 4242}).splitlines()
    saved = "\n".join(
        [
            "# Generated by iptables-save",
            "*raw",
            ":PREROUTING ACCEPT [0:0]",
            ":OUTPUT ACCEPT [0:0]",
            *ours[1:3],
            ":neutron-linuxbri-PREROUTING - [0:0]",
            "-A PREROUTING -j OS-ZONE",
            "-A PREROUTING -j neutron-linuxbri-PREROUTING",
            "-A OUTPUT -j OS-ZOUT",
            *ours[3:-1],
            "-A neutron-linuxbri-PREROUTING -i brq1 -j CT --zone 4097",
            "-A PREROUTING -i eth9 -j CT --zone-orig 12",
            "COMMIT",
        ]
    )
    parsed = parse_saved(names, saved)
    assert parsed.ours == {"osb3f1e2d4c5b6": 4242}
    assert parsed.foreign == {4097, 12}
    assert parsed.chains == {"OS-ZONE", "OS-ZOUT"}
    assert parsed.jumps == {"PREROUTING", "OUTPUT"}
    assert parse_saved(Names("xy"), saved).ours == {}


def test_zone_chains_are_ours_and_carry_the_prefix() -> None:
    names = Names("tz1")
    assert names.zone_chain == "TZ1-ZONE" and names.zone_output_chain == "TZ1-ZOUT"
    assert names.owns_chain("TZ1-ZONE") and names.owns_chain("TZ1-ZOUT")
    assert not names.owns_chain("TZ1-ZONEX") and not Names("tz").owns_chain("TZ1-ZONE")
