"""The Linux bridge driver's QoS commands, rendered without a host: what ``tc`` is asked to
do when a port's limits appear, change and go, and the DSCP chain's rules."""

from __future__ import annotations

from onestack.network.drivers.base import FixedIP, Port, QosRule
from onestack.network.drivers.linuxbridge.names import Names
from onestack.network.drivers.linuxbridge.qos import (
    MIN_BURST_KBIT,
    Limits,
    limits_of,
    render_dscp,
    tc_commands,
)

TAP, IFB = "ostabc", "osqabc"


def _argv(commands: list[tuple[list[str], bool]]) -> list[str]:
    return [" ".join(argv) for argv, _ in commands]


def test_limits_take_the_rules_directions_and_a_burst_a_gso_packet_fits() -> None:
    rules = (
        QosRule("bandwidth_limit", "egress", 10_000),
        QosRule("bandwidth_limit", "ingress", 1000, 2000),
        QosRule("dscp_marking", dscp_mark=26),
    )
    assert limits_of(rules) == Limits(egress=(10_000, 8000), ingress=(1000, 2000))
    assert limits_of((QosRule("bandwidth_limit", "egress", 100),)).egress == (100, MIN_BURST_KBIT)


def test_commands_from_nothing_to_both_ways_and_back() -> None:
    both = Limits(egress=(1000, 800), ingress=(2000, 1600))
    made = _argv(tc_commands(TAP, IFB, both, Limits()))
    assert (
        made[0] == f"tc qdisc replace dev {TAP} root tbf rate 2000kbit burst 1600kbit latency 50ms"
    )
    assert f"ip link add {IFB} type ifb" in made
    assert any("mirred egress redirect dev " + IFB in c for c in made)
    assert (
        made[-1] == f"tc qdisc replace dev {IFB} root tbf rate 1000kbit burst 800kbit latency 50ms"
    )
    # A new egress rate changes the ifb's qdisc alone.
    faster = Limits(egress=(5000, 4000), ingress=both.ingress)
    assert _argv(tc_commands(TAP, IFB, faster, both)) == [
        f"tc qdisc replace dev {IFB} root tbf rate 5000kbit burst 4000kbit latency 50ms"
    ]
    gone = tc_commands(TAP, IFB, Limits(), both)
    assert _argv(gone) == [
        f"tc qdisc del dev {TAP} root",
        f"tc qdisc del dev {TAP} ingress",
        f"ip link del {IFB}",
    ]
    assert not any(must for _, must in gone)  # what is already gone is no error


def test_dscp_rules_mark_what_each_port_sends() -> None:
    names = Names("os")
    port = Port("1234567890ab-cdef", "n", "p", "fa:16:3e:00:00:01", (FixedIP("s", "10.0.0.3"),),
                "compute:nova", "vm", qos=(QosRule("dscp_marking", dscp_mark=46),))  # fmt: skip
    text = render_dscp(names, [port])
    assert text.splitlines() == [
        "*mangle",
        ":OS-QOS - [0:0]",
        f"-A OS-QOS -m physdev --physdev-in {names.tap(port.id)} --physdev-is-bridged "
        "-j DSCP --set-dscp 0x2e",
        "COMMIT",
    ]
