"""QoS on a VM port's tap: bandwidth limits with ``tc``, DSCP marking with iptables.

Directions are the guest's. What the guest receives (``ingress``) leaves through the tap and is
shaped by a ``tbf`` root qdisc there. What it sends (``egress``) arrives on the tap: the tap's
ingress qdisc redirects all of it (``u32`` match-all, ``mirred`` action) to an ifb device of the
port's own, whose ``tbf`` root qdisc shapes it. Why not Neutron's ``police`` action on the
ingress qdisc: it needs ``act_police`` (and Neutron's ``basic`` classifier), which kernels built
without them lack; ifb, u32 and mirred are what a shaping host has anyway, and shaping queues
the excess where policing drops it. DSCP marks are set on what the guest sends by rules in
our own chain of the mangle table (``P-QOS``, jumped to once from FORWARD, where bridged traffic
passes), one per port: ``-m physdev --physdev-in TAP --physdev-is-bridged -j DSCP``.

Each tap's qdiscs are set only when its rules changed or the tap is a new device (another
ifindex: a hypervisor made it again), and taken off when its port leaves the host's state while
the device stays (a detach); a deleted tap takes them with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from onestack.common.logging import get_logger
from onestack.network.drivers.base import Port, QosRule
from onestack.network.drivers.linuxbridge.names import Names
from onestack.network.drivers.linuxbridge.shell import DataplaneError, run

log = get_logger(__name__)

BURST_RATIO = 0.8  # Neutron's default burst: 80% of the rate, when the rule gives none
MIN_BURST_KBIT = 524  # 64 KiB: a GSO packet (up to 64 KiB) must fit the bucket to pass at all
TBF_LATENCY = "50ms"
REDIRECT_PRIO = "49"


@dataclass(frozen=True)
class Limits:
    """A tap's wanted limits as (rate kbit/s, burst kbit) the guest's ways; None: no limit."""

    egress: tuple[int, int] | None = None
    ingress: tuple[int, int] | None = None


def burst_kbit(rule: QosRule) -> int:
    burst = rule.max_burst_kbps or int(rule.max_kbps * BURST_RATIO)
    return max(burst, MIN_BURST_KBIT)


def limits_of(rules: Iterable[QosRule]) -> Limits:
    egress = ingress = None
    for rule in rules:
        if rule.type != "bandwidth_limit" or rule.max_kbps <= 0:
            continue
        pair = (rule.max_kbps, burst_kbit(rule))
        if rule.direction == "ingress":
            ingress = pair
        else:
            egress = pair
    return Limits(egress, ingress)


def _tbf(dev: str, limit: tuple[int, int]) -> list[str]:
    rate, burst = limit
    return ["tc", "qdisc", "replace", "dev", dev, "root", "tbf", "rate", f"{rate}kbit",
            "burst", f"{burst}kbit", "latency", TBF_LATENCY]  # fmt: skip


def tc_commands(
    tap: str, ifb: str, limits: Limits, before: Limits | None
) -> list[tuple[list[str], bool]]:
    """The commands (argv, must succeed) taking a tap and its ifb from ``before`` (None:
    unknown) to ``limits``."""
    out: list[tuple[list[str], bool]] = []
    if limits.ingress is not None:
        if before is None or before.ingress != limits.ingress:
            out.append((_tbf(tap, limits.ingress), True))
    elif before is None or before.ingress is not None:
        out.append((["tc", "qdisc", "del", "dev", tap, "root"], False))
    if before is not None and before.egress == limits.egress:
        return out
    if limits.egress is None:
        out.append((["tc", "qdisc", "del", "dev", tap, "ingress"], False))
        out.append((["ip", "link", "del", ifb], False))
        return out
    if before is None or before.egress is None:
        out.append((["ip", "link", "add", ifb, "type", "ifb"], False))  # may be there already
        out.append((["ip", "link", "set", ifb, "up"], True))
        out.append((["tc", "qdisc", "del", "dev", tap, "ingress"], False))
        out.append((["tc", "qdisc", "add", "dev", tap, "handle", "ffff:", "ingress"], True))
        out.append((["tc", "filter", "add", "dev", tap, "parent", "ffff:", "protocol", "all",
                     "prio", REDIRECT_PRIO, "u32", "match", "u32", "0", "0", "action", "mirred",
                     "egress", "redirect", "dev", ifb], True))  # fmt: skip
    out.append((_tbf(ifb, limits.egress), True))
    return out


def render_dscp(names: Names, ports: Iterable[Port]) -> str:
    """The mangle table text of our DSCP chain (the same for IPv4 and IPv6)."""
    chain = names.qos_chain
    lines = ["*mangle", f":{chain} - [0:0]"]
    for port in sorted(ports, key=lambda p: p.id):
        for rule in port.qos:
            if rule.type == "dscp_marking":
                lines.append(
                    f"-A {chain} -m physdev --physdev-in {names.tap(port.id)} "
                    f"--physdev-is-bridged -j DSCP --set-dscp {rule.dscp_mark:#x}"
                )
    return "\n".join([*lines, "COMMIT", ""])


class Qos:
    """Applies ports' QoS to the host (blocking; called from the driver's thread)."""

    TOOLS = {4: ("iptables", "iptables-restore"), 6: ("ip6tables", "ip6tables-restore")}

    def __init__(self, names: Names) -> None:
        self.names = names
        self._taps: dict[str, tuple[int, Limits]] = {}  # tap -> (ifindex, limits) as set
        self._dscp: str | None = None  # the mangle text as loaded; None: nothing of ours

    def _ifb_of(self, tap: str) -> str:
        return self.names.prefix + "q" + tap[len(self.names.prefix) + 1 :]

    def apply(self, ports: Iterable[Port], taps: dict[str, int]) -> set[str]:
        """Set each port's limits on its tap (``taps``: the taps that exist, by ifindex) and
        the DSCP rules; returns the ifb devices in use (a failed port's too: it is retried)."""
        ports = list(ports)
        wanted: dict[str, tuple[str, Limits]] = {}
        for port in ports:
            tap = self.names.tap(port.id)
            if tap in taps:
                wanted[tap] = (port.id, limits_of(port.qos))
        for tap in sorted(set(self._taps) - set(wanted)):
            _, was = self._taps.pop(tap)
            for argv, _ in tc_commands(tap, self._ifb_of(tap), Limits(), was):
                run(argv, check=False)  # a tap that went away took its qdiscs
        for tap, (port_id, limits) in sorted(wanted.items()):
            known = self._taps.get(tap)
            before = known[1] if known is not None and known[0] == taps[tap] else None
            if before == limits or (known is None and limits == Limits()):
                continue  # as set, or never limited by us
            try:
                for argv, must in tc_commands(tap, self._ifb_of(tap), limits, before):
                    run(argv, check=must)
            except DataplaneError as exc:
                # Retried next round: nothing of it is remembered as set.
                log.error("QoS of port %s on %s: %s", port_id, tap, exc)
                self._taps.pop(tap, None)
                continue
            self._taps[tap] = (taps[tap], limits)
        self._apply_dscp(ports)
        return {self._ifb_of(tap) for tap, (_, limits) in wanted.items() if limits.egress}

    def _apply_dscp(self, ports: list[Port]) -> None:
        text = render_dscp(self.names, ports)
        marks = any(r.type == "dscp_marking" for p in ports for r in p.qos)
        if text == self._dscp or (self._dscp is None and not marks):
            return
        chain = self.names.qos_chain
        for tool, restore in self.TOOLS.values():
            run([restore, "--noflush"], input=text)
            if run([tool, "-t", "mangle", "-C", "FORWARD", "-j", chain], check=False).returncode:
                run([tool, "-t", "mangle", "-I", "FORWARD", "1", "-j", chain])
        self._dscp = text

    def teardown(self) -> None:
        """Our mangle chain and its jumps go; the qdiscs go with the taps."""
        chain = self.names.qos_chain
        for tool, restore in self.TOOLS.values():
            for _ in range(100):
                if run(
                    [tool, "-t", "mangle", "-D", "FORWARD", "-j", chain], check=False
                ).returncode:
                    break
            if run([tool, "-t", "mangle", "-L", chain, "-n"], check=False).returncode == 0:
                run([restore, "--noflush"], input=f"*mangle\n-F {chain}\n-X {chain}\nCOMMIT\n")
        self._dscp = None
        self._taps.clear()
