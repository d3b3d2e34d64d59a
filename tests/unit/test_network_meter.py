"""The metering chains of a router namespace (Neutron's iptables metering driver's rules)
and the reading of their counters."""

from __future__ import annotations

from onestack.network.drivers.base import (
    FixedIP,
    MeteringLabel,
    MeteringRule,
    Port,
    Router,
    RouterGateway,
)
from onestack.network.drivers.linuxbridge.meter import (
    label_chain,
    parse_counters,
    render_router_meter,
    rules_chain,
)
from onestack.network.drivers.linuxbridge.names import Names

GW = Port("gw-port", "ext", "", "fa:16:3e:00:00:01", (FixedIP("s", "10.9.0.5"),), "x", "r1")
LABEL = "0b5c8e3a-1111-2222-3333-444455556666"


def router(*rules: MeteringRule, gateway: bool = True) -> Router:
    return Router(
        "r1",
        "p",
        True,
        RouterGateway("ext", GW) if gateway else None,
        metering_labels=(MeteringLabel(LABEL, "p", rules),),
    )


def test_rules_count_across_the_gateway_with_exclusions_first() -> None:
    qg = Names.gateway_inner(GW.id)
    table = render_router_meter(
        router(
            MeteringRule("egress", remote_ip_prefix="0.0.0.0/0"),
            MeteringRule("ingress", remote_ip_prefix="10.0.0.0/8"),
            MeteringRule("egress", excluded=True, remote_ip_prefix="10.9.0.0/24"),
            MeteringRule(
                "egress", source_ip_prefix="192.168.1.0/24", destination_ip_prefix="8.8.8.8/32"
            ),
            MeteringRule("ingress", remote_ip_prefix="2001:db8::/64"),
        )
    )
    r, lc = rules_chain(LABEL), label_chain(LABEL)
    assert len(lc) <= 28 and len(r) <= 28  # iptables' chain name limit
    body = [line for line in table.splitlines() if line.startswith("-A")]
    assert body == [
        "-A FORWARD -j meter-FORWARD",
        f"-A meter-FORWARD -j {r}",
        f"-A {lc}",
        f"-A {r} -o {qg} -d 10.9.0.0/24 -j RETURN",
        f"-A {r} -o {qg} -d 0.0.0.0/0 -j {lc}",
        f"-A {r} -i {qg} -s 10.0.0.0/8 -j {lc}",
        f"-A {r} -o {qg} -s 192.168.1.0/24 -d 8.8.8.8/32 -j {lc}",
    ]
    assert table.startswith("*filter\n") and table.endswith("COMMIT\n")


def test_a_router_without_gateway_counts_nothing() -> None:
    table = render_router_meter(
        router(MeteringRule("egress", remote_ip_prefix="0.0.0.0/0"), gateway=False)
    )
    assert "meter-l-" not in table and "-A FORWARD -j meter-FORWARD" in table


def test_counters_are_read_from_the_counting_chains() -> None:
    listing = f"""Chain FORWARD (policy ACCEPT 12 packets, 900 bytes)
    pkts      bytes target     prot opt in     out     source               destination
      12      900 meter-FORWARD  all  --  *      *       0.0.0.0/0            0.0.0.0/0

Chain {label_chain(LABEL)} (2 references)
    pkts      bytes target     prot opt in     out     source               destination
       5     5140            all  --  *      *       0.0.0.0/0            0.0.0.0/0

Chain {rules_chain(LABEL)} (1 references)
    pkts      bytes target     prot opt in     out     source               destination
       7     6000 RETURN     all  --  *      qg-x    0.0.0.0/0            10.9.0.0/24
"""
    assert parse_counters(listing) == {label_chain(LABEL): (5, 5140)}
