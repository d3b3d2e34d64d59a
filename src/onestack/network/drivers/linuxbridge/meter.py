"""Metering labels counted in each router's namespace, as Neutron's iptables metering driver
does: the filter table's FORWARD jumps to ``meter-FORWARD``, which jumps to one rules chain
per label (``meter-r-<label>``); each rule of the label sends what it selects across the
gateway device to the label's counting chain (``meter-l-<label>``, one rule without a
target, whose counters are the label's), excluded rules ``RETURN`` first so what they select
is never counted. Only a router with a gateway counts (the rules name its ``qg-`` device).

The counters are read and zeroed together (``iptables -L -Z``): each read is what passed since
the previous one. Reloading a router's rules zeroes them too, so what they held is read first.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from onestack.network.drivers.base import LabelCount, MeteringLabel, MeteringRule, Router
from onestack.network.drivers.linuxbridge.names import Names
from onestack.network.drivers.linuxbridge.shell import DataplaneError, run

TOP = "meter-FORWARD"


def label_chain(label_id: str) -> str:
    return "meter-l-" + label_id.replace("-", "")[:16]


def rules_chain(label_id: str) -> str:
    return "meter-r-" + label_id.replace("-", "")[:16]


def rule_match(rule: MeteringRule, gateway_device: str) -> str:
    """The iptables match of one label rule (Neutron's, legacy ``remote_ip_prefix`` and the
    ``source``/``destination`` form alike)."""
    if rule.direction == "egress":
        parts = [f"-o {gateway_device}"]
        if rule.remote_ip_prefix:
            parts.append(f"-d {rule.remote_ip_prefix}")
    else:
        parts = [f"-i {gateway_device}"]
        if rule.remote_ip_prefix:
            parts.append(f"-s {rule.remote_ip_prefix}")
    if rule.source_ip_prefix:
        parts.append(f"-s {rule.source_ip_prefix}")
    if rule.destination_ip_prefix:
        parts.append(f"-d {rule.destination_ip_prefix}")
    return " ".join(parts)


def ipv4_only(rule: MeteringRule) -> bool:
    prefixes = (rule.remote_ip_prefix, rule.source_ip_prefix, rule.destination_ip_prefix)
    return all(p is None or ":" not in p for p in prefixes)


def render_router_meter(router: Router) -> str:
    """The router namespace's filter table (pure: unit tested). IPv6 prefixes are left to
    ip6tables, which this driver does not load: those rules count nothing."""
    lines = [
        "*filter",
        ":INPUT ACCEPT [0:0]",
        ":FORWARD ACCEPT [0:0]",
        ":OUTPUT ACCEPT [0:0]",
        f":{TOP} - [0:0]",
    ]
    body = [f"-A FORWARD -j {TOP}"]
    if router.gateway is not None:
        device = Names.gateway_inner(router.gateway.port.id)
        for label in sorted(router.metering_labels, key=lambda x: x.id):
            counting, rules = label_chain(label.id), rules_chain(label.id)
            lines += [f":{counting} - [0:0]", f":{rules} - [0:0]"]
            body += [f"-A {TOP} -j {rules}", f"-A {counting}"]
            chosen = [r for r in label.rules if ipv4_only(r)]
            # Excluded rules first: what they select returns before any rule counts it.
            for rule in sorted(chosen, key=lambda r: not r.excluded):
                target = "RETURN" if rule.excluded else counting
                body.append(f"-A {rules} {rule_match(rule, device)} -j {target}")
    return "\n".join([*lines, *body, "COMMIT"]) + "\n"


def parse_counters(listing: str) -> dict[str, tuple[int, int]]:
    """``iptables -L -n -v -x`` output: (packets, bytes) of the first rule of each counting
    chain."""
    out: dict[str, tuple[int, int]] = {}
    chain = ""
    for line in listing.splitlines():
        if line.startswith("Chain "):
            chain = line.split()[1]
            continue
        fields = line.split()
        if (
            chain.startswith("meter-l-")
            and chain not in out
            and len(fields) >= 2
            and fields[0].isdigit()
            and fields[1].isdigit()
        ):
            out[chain] = (int(fields[0]), int(fields[1]))
    return out


@dataclass
class _Counted:
    ns: str
    labels: dict[str, MeteringLabel]  # counting chain -> label
    table: str


class Meters:
    """Loads and reads the routers' metering chains (blocking: the driver's thread)."""

    def __init__(self) -> None:
        self._routers: dict[str, _Counted] = {}
        self._held: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # label id -> counts
        self._projects: dict[str, str] = {}

    def ensure(self, ns: str, router: Router, fresh: bool) -> None:
        """Load the router's filter table when it changed (``fresh``: a new namespace)."""
        table = render_router_meter(router)
        known = self._routers.get(router.id)
        if known is not None and not fresh and known.table == table:
            return
        if known is not None and not fresh:
            self._read(router.id, known)  # the reload zeroes them
        run(["iptables-restore"], input=table, netns=ns)
        labels = {label_chain(x.id): x for x in router.metering_labels}
        if router.gateway is None:
            labels = {}
        self._routers[router.id] = _Counted(ns, labels, table)
        for label in labels.values():
            self._projects[label.id] = label.project_id

    def forget(self, router_id: str) -> None:
        self._routers.pop(router_id, None)

    def read(self) -> list[LabelCount]:
        """What every label counted since the last read, summed over its routers here."""
        labels: set[str] = set()
        for router_id, counted in list(self._routers.items()):
            self._read(router_id, counted)
            labels.update(x.id for x in counted.labels.values())
        out = []
        for label_id in sorted(labels | set(self._held)):
            pkts, size = self._held.pop(label_id, [0, 0])
            out.append(LabelCount(label_id, self._projects.get(label_id, ""), pkts, size))
        for gone in set(self._projects) - labels:
            del self._projects[gone]
        return out

    def _read(self, router_id: str, counted: _Counted) -> None:
        if not counted.labels:
            return
        try:
            proc = run(["iptables", "-t", "filter", "-L", "-n", "-v", "-x", "-Z"], netns=counted.ns)
        except DataplaneError:
            # The namespace is gone (the next apply rebuilds it): its counts went with it.
            self._routers.pop(router_id, None)
            return
        for chain, (pkts, size) in parse_counters(proc.stdout).items():
            label = counted.labels.get(chain)
            if label is not None:
                held = self._held[label.id]
                held[0] += pkts
                held[1] += size
