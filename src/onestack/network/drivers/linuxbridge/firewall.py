"""Security groups: stateful iptables rules per port, hooked into the host's FORWARD chain.

Why iptables and not nftables: bridged guest traffic reaches the inet FORWARD hook through
br_netfilter with conntrack, so ``-m physdev --physdev-out TAP --physdev-is-bridged`` plus
``-m conntrack`` is stateful here and on every stock distribution kernel, while the nft
``bridge`` family has no conntrack on this kernel. ``iptables`` is whichever backend the host's
binary uses (nf_tables or legacy), so our rules sit beside the host's own.

Layout (``p`` = device prefix, ``P`` = upper-case prefix), as Neutron's iptables firewall:
  FORWARD -> P-FWD (one jump, inserted first; the chain policies are never touched)
  P-FWD:  physdev-out TAP -> p i<port> (ingress)   physdev-in TAP -> p o<port> (egress)
          then ACCEPT what is bridged on our bridges, routed traffic of external bridges.
  p i<port>: established RETURN, invalid DROP, DHCP/NDP RETURN, rules RETURN, DROP
  p o<port>: DHCP discover RETURN, -> p s<port> (MAC/IP anti-spoofing), no DHCP/RA server,
             established RETURN, invalid DROP, rules RETURN, DROP
Remote security groups are ipsets (``hash:net``) swapped in atomically. Everything is applied
with one ``iptables-restore --noflush`` of our chains only, and only when the text changed.
Each network's traffic is tracked in a conntrack zone of its own (raw table, see ``zones``).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from onestack.network.drivers.base import HostState, Port, SecurityGroup, SecurityGroupRule
from onestack.network.drivers.linuxbridge.ipsets import Ipsets
from onestack.network.drivers.linuxbridge.names import Names
from onestack.network.drivers.linuxbridge.shell import DataplaneError, run
from onestack.network.drivers.linuxbridge.zones import (
    SavedZones,
    assign_zones,
    parse_saved,
    render_raw,
    zoned,
)

PROTOCOL_NUMBERS = {
    "1": "icmp",
    "6": "tcp",
    "17": "udp",
    "58": "ipv6-icmp",
    "132": "sctp",
    "33": "dccp",
    "136": "udplite",
}
PORT_PROTOCOLS = {"tcp", "udp", "sctp", "dccp", "udplite"}
# ICMPv6 a port must receive for neighbour discovery to work (MLD, RA, NS, NA).
ICMPV6_INGRESS = (130, 131, 132, 134, 135, 136)
JUMP_RECHECK = 30.0  # seconds between checks that our FORWARD jump is still there


@dataclass
class Ruleset:
    """The rendered state of one address family: our chains, their rules, the sets used."""

    ip_version: int
    chains: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    ipsets: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def by_chain(self) -> dict[str, tuple[str, ...]]:
        rules: dict[str, list[str]] = {chain: [] for chain in self.chains}
        for rule in self.rules:
            rules[rule.split(" ", 2)[1]].append(rule)
        return {chain: tuple(lines) for chain, lines in rules.items()}

    def text(
        self,
        stale_chains: Iterable[str] = (),
        loaded: dict[str, tuple[str, ...]] | None = None,
    ) -> str:
        """The restore input; given what is ``loaded``, only the chains that differ from it
        (declaring a chain flushes it), so a new port costs its own chains, not every port's."""
        stale = sorted(set(stale_chains) - set(self.chains))
        chains = self.chains
        rules = self.rules
        if loaded is not None:
            mine = self.by_chain()
            chains = [chain for chain in self.chains if loaded.get(chain) != mine[chain]]
            rules = [rule for chain in chains for rule in mine[chain]]
        lines = ["*filter"]
        lines += [f":{chain} - [0:0]" for chain in chains]
        lines += rules
        lines += [f"-F {chain}" for chain in stale]
        lines += [f"-X {chain}" for chain in stale]
        lines.append("COMMIT")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class _Load:
    """One table's text for iptables-restore, the jumps into its chains, and what to
    remember as applied (the text without its stale-chain clean-up, where that differs)."""

    key: str
    text: str
    jumps: tuple[tuple[str, str, str], ...]
    remember: str = ""
    chains: frozenset[str] | None = None  # the filter chains it leaves (filter loads only)
    chain_rules: dict[str, tuple[str, ...]] | None = None  # and their rules


def _protocol(rule: SecurityGroupRule, ip_version: int) -> str | None:
    if rule.protocol in (None, "", "any"):
        return None
    proto = PROTOCOL_NUMBERS.get(str(rule.protocol), str(rule.protocol)).lower()
    if proto in ("icmp", "ipv6-icmp", "icmpv6"):
        return "icmp" if ip_version == 4 else "ipv6-icmp"
    return proto


def _rule_matches(
    rule: SecurityGroupRule, ip_version: int, names: Names, groups: dict[str, SecurityGroup]
) -> list[str] | None:
    """The iptables match of one rule, or None when the rule is not for this family."""
    if rule.ethertype != f"IPv{ip_version}":
        return None
    ingress = rule.direction == "ingress"
    parts: list[str] = []
    if rule.remote_ip_prefix:
        net = ipaddress.ip_network(rule.remote_ip_prefix, strict=False)
        if net.version != ip_version:
            return None
        if net.prefixlen:
            parts += ["-s" if ingress else "-d", str(net)]
    elif rule.remote_group_id:
        set_name = names.ipset(rule.remote_group_id, ip_version)
        parts += ["-m", "set", "--match-set", set_name, "src" if ingress else "dst"]
    proto = _protocol(rule, ip_version)
    if proto:
        parts += ["-p", proto]
        if proto in PORT_PROTOCOLS and rule.port_range_min is not None:
            low = rule.port_range_min
            high = rule.port_range_max if rule.port_range_max is not None else low
            ports = str(low) if low == high else f"{low}:{high}"
            parts += ["-m", proto, "--dport", ports]
        elif proto == "icmp" and rule.port_range_min is not None:
            code = f"/{rule.port_range_max}" if rule.port_range_max is not None else ""
            parts += ["-m", "icmp", "--icmp-type", f"{rule.port_range_min}{code}"]
        elif proto == "ipv6-icmp" and rule.port_range_min is not None:
            code = f"/{rule.port_range_max}" if rule.port_range_max is not None else ""
            parts += ["-m", "icmp6", "--icmpv6-type", f"{rule.port_range_min}{code}"]
    return parts


def link_local(mac: str) -> str:
    """The EUI-64 IPv6 link-local address a port forms from its MAC."""
    octets = [int(b, 16) for b in mac.split(":")]
    octets[0] ^= 0x02
    eui = [*octets[:3], 0xFF, 0xFE, *octets[3:]]
    groups = [f"{eui[i] << 8 | eui[i + 1]:x}" for i in range(0, 8, 2)]
    return str(ipaddress.IPv6Address("fe80::" + ":".join(groups)))


def _addresses(port: Port, ip_version: int) -> list[tuple[str, str]]:
    """(source CIDR, MAC) pairs the port may send from: fixed IPs and allowed address pairs."""
    out = []
    for fixed in port.fixed_ips:
        ip = ipaddress.ip_address(fixed.ip_address)
        if ip.version == ip_version:
            out.append((f"{ip}/{ip.max_prefixlen}", port.mac_address))
    if ip_version == 6:
        out.append((f"{link_local(port.mac_address)}/128", port.mac_address))
    for pair in port.allowed_address_pairs:
        net = ipaddress.ip_network(pair.ip_address, strict=False)
        if net.version == ip_version:
            out.append((str(net), (pair.mac_address or port.mac_address)))
    return out


def _base_ingress(ichain: str, v4: bool) -> list[str]:
    """What may always reach a port: replies, DHCP offers, neighbour discovery (v6)."""
    i = [
        f"-A {ichain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        f"-A {ichain} -m conntrack --ctstate INVALID -j DROP",
    ]
    if v4:
        i.append(f"-A {ichain} -p udp -m udp --sport 67 --dport 68 -j RETURN")
    else:
        i += [
            f"-A {ichain} -p ipv6-icmp -m icmp6 --icmpv6-type {t} -j RETURN" for t in ICMPV6_INGRESS
        ]
        i.append(f"-A {ichain} -p udp -m udp --sport 547 --dport 546 -j RETURN")
    return i


def _base_egress(ochain: str, schain: str, v4: bool) -> list[str]:
    """What a port may always send (DHCP requests, DAD), through its anti-spoofing chain, and
    what it may never (DHCP or RA server replies)."""
    o: list[str] = []
    if v4:
        o.append(
            f"-A {ochain} -s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp "
            "--sport 68 --dport 67 -j RETURN"
        )
    else:
        for t in (131, 135, 143):  # MLD report, NS for DAD, MLDv2 report: from ::
            o.append(
                f"-A {ochain} -s ::/128 -d ff02::/16 -p ipv6-icmp -m icmp6 "
                f"--icmpv6-type {t} -j RETURN"
            )
    o.append(f"-A {ochain} -j {schain}")
    if v4:
        o.append(f"-A {ochain} -p udp -m udp --sport 68 --dport 67 -j RETURN")
        o.append(f"-A {ochain} -p udp -m udp --sport 67 --dport 68 -j DROP")
    else:
        o.append(f"-A {ochain} -p ipv6-icmp -m icmp6 --icmpv6-type 134 -j DROP")
        o.append(f"-A {ochain} -p ipv6-icmp -j RETURN")
        o.append(f"-A {ochain} -p udp -m udp --sport 546 --dport 547 -j RETURN")
        o.append(f"-A {ochain} -p udp -m udp --sport 547 --dport 546 -j DROP")
    o += [
        f"-A {ochain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        f"-A {ochain} -m conntrack --ctstate INVALID -j DROP",
    ]
    return o


def _port_rules(
    rs: Ruleset,
    names: Names,
    port: Port,
    groups: dict[str, SecurityGroup],
    used_sets: set[str],
) -> None:
    """A port's three chains (ingress, egress, anti-spoofing) and the jumps to them, into
    ``rs``; the remote groups its rules match are added to ``used_sets``."""
    ip_version = rs.ip_version
    fwd = names.forward_chain
    tap = names.tap(port.id)
    ichain, ochain, schain = (
        names.ingress_chain(port.id),
        names.egress_chain(port.id),
        names.spoof_chain(port.id),
    )
    rs.chains += [ichain, ochain, schain]
    rs.rules.append(f"-A {fwd} -m physdev --physdev-out {tap} --physdev-is-bridged -j {ichain}")
    rs.rules.append(f"-A {fwd} -m physdev --physdev-in {tap} --physdev-is-bridged -j {ochain}")
    i = _base_ingress(ichain, ip_version == 4)
    o = _base_egress(ochain, schain, ip_version == 4)
    for group_id in port.security_group_ids:
        group = groups.get(group_id)
        if group is None:
            continue
        for rule in group.rules:
            match = _rule_matches(rule, ip_version, names, groups)
            if match is None:
                continue
            if rule.remote_group_id and not rule.remote_ip_prefix:
                used_sets.add(rule.remote_group_id)
            chain_rules = i if rule.direction == "ingress" else o
            line = " ".join(["-A", ichain if rule.direction == "ingress" else ochain, *match])
            line += " -j RETURN"
            if line not in chain_rules:
                chain_rules.append(line)
    i.append(f"-A {ichain} -j DROP")
    o.append(f"-A {ochain} -j DROP")
    rs.rules += i + o
    # Anti-spoofing: only the port's own MAC with its own addresses (and allowed pairs).
    for cidr, mac in _addresses(port, ip_version):
        rs.rules.append(f"-A {schain} -s {cidr} -m mac --mac-source {mac.lower()} -j RETURN")
    rs.rules.append(f"-A {schain} -j DROP")


def render(names: Names, state: HostState, ip_version: int, bridges: Iterable[str] = ()) -> Ruleset:
    """The rules of one family for every tap port of ``state`` (pure: unit tested).

    ``bridges`` are the network bridges of this host, whose bridged traffic is accepted once
    the per-port chains have had their say (so a host FORWARD policy of DROP does not cut our
    networks); external bridges also get their routed traffic accepted.
    """
    fwd = names.forward_chain
    rs = Ruleset(ip_version)
    rs.chains.append(fwd)
    groups = {g.id: g for g in state.security_groups}
    used_sets: set[str] = set()
    for port in sorted(state.ports, key=lambda p: p.id):
        if port.port_security_enabled:
            _port_rules(rs, names, port, groups, used_sets)
    for bridge in sorted(set(bridges)):
        rs.rules.append(f"-A {fwd} -o {bridge} -m physdev --physdev-is-bridged -j ACCEPT")
    for network in sorted(state.networks, key=lambda n: n.id):
        if network.external:
            bridge = names.bridge(network.id)
            rs.rules.append(f"-A {fwd} -i {bridge} ! -o {bridge} -j ACCEPT")
            rs.rules.append(
                f"-A {fwd} -o {bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
            )
    for group_id in sorted(used_sets):
        group = groups.get(group_id)
        members = group.member_ips if group else ()
        rs.ipsets[names.ipset(group_id, ip_version)] = tuple(
            sorted(ip for ip in set(members) if ipaddress.ip_address(ip).version == ip_version)
        )
    return rs


def render_nat(names: Names, state: HostState) -> list[str]:
    """MASQUERADE from each external network's subnets toward everything but that bridge
    (the host's uplink, so the public range reaches the outside)."""
    chain = names.postrouting_chain
    rules = []
    for network in sorted(state.networks, key=lambda n: n.id):
        if not network.external:
            continue
        bridge = names.bridge(network.id)
        for subnet in network.subnets:
            if subnet.ip_version == 4 and subnet.gateway_ip:
                cidr = ipaddress.ip_network(subnet.cidr, strict=False)
                # Routed by the host only: with br_netfilter, bridged frames pass nat
                # POSTROUTING too, and a router's DNATed traffic must keep its source.
                rules.append(
                    f"-A {chain} -s {cidr} ! -o {bridge} "
                    "-m physdev ! --physdev-is-bridged -j MASQUERADE"
                )
    return rules


class Firewall:
    """Applies rendered rulesets to the host (blocking; called from the driver's thread)."""

    TOOLS = {
        4: ("iptables", "iptables-save", "iptables-restore"),
        6: ("ip6tables", "ip6tables-save", "ip6tables-restore"),
    }

    def __init__(self, names: Names) -> None:
        self.names = names
        self._applied: dict[str, str] = {}  # what we last loaded, per table key
        self.ipsets = Ipsets(names)
        self._jumps_checked = 0.0  # monotonic time our FORWARD jumps were last seen in place
        self._jumps_seen: set[tuple[int, str, str, str]] = set()  # in place since that look
        self._chains: dict[int, set[str]] = {}  # our chains as last loaded, per family
        self._port_rules: dict[str, frozenset[str]] = {}
        self._chain_rules: dict[
            int, dict[str, tuple[str, ...]]
        ] = {}  # per family, as loaded  # each port's rules as last loaded
        self._zones: dict[str, int] | None = None  # network id -> conntrack zone; None: unread

    def zone(self, network_id: str) -> int:
        """The conntrack zone of a network's traffic (0, the host's, for external networks)."""
        return (self._zones or {}).get(network_id, 0)

    def _our_chains(self, ip_version: int, table: str) -> set[str]:
        save = self.TOOLS[ip_version][1]
        out = run([save, "-t", table]).stdout
        return {
            line[1:].split()[0]
            for line in out.splitlines()
            if line.startswith(":") and self.names.owns_chain(line[1:].split()[0])
        }

    def _ensure_jump(self, ip_version: int, table: str, hook: str, chain: str) -> None:
        # A jump seen in place is trusted until the next look at the host, as our chains are
        # (each look is a process, 2-4 ms a family and a load: #19).
        if (ip_version, table, hook, chain) in self._jumps_seen:
            return
        tool = self.TOOLS[ip_version][0]
        if run([tool, "-t", table, "-C", hook, "-j", chain], check=False).returncode != 0:
            run([tool, "-t", table, "-I", hook, "1", "-j", chain])
        self._jumps_seen.add((ip_version, table, hook, chain))

    def _remove_jump(self, ip_version: int, table: str, hook: str, chain: str) -> None:
        tool = self.TOOLS[ip_version][0]
        for _ in range(100):  # duplicates, if someone ran two of us with one prefix
            if run([tool, "-t", table, "-D", hook, "-j", chain], check=False).returncode != 0:
                return

    def apply(self, state: HostState, bridges: Iterable[str], force: bool = False) -> bool:
        """Load the rules for ``state``; returns whether anything was (re)loaded."""
        bridges = list(bridges)
        rulesets = {v: render(self.names, state, v, bridges) for v in (4, 6)}
        all_sets = {**rulesets[4].ipsets, **rulesets[6].ipsets}
        self.ipsets.sync(all_sets)
        # What the host really holds (our jump, our chains: someone may have flushed FORWARD
        # or left a chain of ours behind) is looked at every JUMP_RECHECK seconds, each look
        # being processes; in between, what we loaded last is trusted.
        recheck = force or time.monotonic() - self._jumps_checked > JUMP_RECHECK
        if recheck:
            self.recheck_soon()
        # Each family's changed tables go in one iptables-restore (raw first: a new port's
        # first packets are tracked in its network's zone).
        loads: dict[int, list[_Load]] = {4: [], 6: []}
        for version, zone_load in self._zone_loads(state, recheck, force):
            loads[version].append(zone_load)
        for version, ruleset in rulesets.items():
            filter_load = self._filter_load(version, ruleset, recheck, force)
            if filter_load is not None:
                loads[version].append(filter_load)
        nat_rules = render_nat(self.names, state)
        nat_chain = self.names.postrouting_chain
        nat_text = "*nat\n" + f":{nat_chain} - [0:0]\n" + "".join(r + "\n" for r in nat_rules)
        nat_text += "COMMIT\n"
        if force or self._applied.get("nat4") != nat_text:
            loads[4].append(_Load("nat4", nat_text, (("nat", "POSTROUTING", nat_chain),)))
        for version, family_loads in loads.items():
            self._load(version, family_loads)
        changed = any(loads.values())
        self._forget_revoked_flows(state, rulesets.values())
        if changed or recheck:
            self.ipsets.destroy_stale(set(all_sets))
        if recheck:
            self._jumps_checked = time.monotonic()
        return changed

    def _filter_load(
        self, version: int, ruleset: Ruleset, recheck: bool, force: bool
    ) -> _Load | None:
        key = f"filter{version}"
        text = ruleset.text()
        known = self._chains.get(version)
        if recheck or known is None:
            known = self._our_chains(version, "filter")
        if not force and self._applied.get(key) == text:
            if not recheck:
                return None
            tool = self.TOOLS[version][0]
            check = [tool, "-C", "FORWARD", "-j", self.names.forward_chain]
            if known == set(ruleset.chains) and run(check, check=False).returncode == 0:
                return None
        stale = known - {self.names.forward_chain, self.names.postrouting_chain}
        jumps = (("filter", "FORWARD", self.names.forward_chain),)
        # After a look at the host (or when forced) everything is loaded again.
        loaded = None if recheck or force else self._chain_rules.get(version)
        return _Load(
            key,
            ruleset.text(stale, loaded),
            jumps,
            text,
            frozenset(ruleset.chains),
            ruleset.by_chain(),
        )

    def _load(self, version: int, loads: list[_Load]) -> None:
        """One iptables-restore of every changed table of a family, then our jumps."""
        if not loads:
            return
        run([self.TOOLS[version][2], "--noflush"], input="".join(load.text for load in loads))
        for load in loads:
            for table, hook, chain in load.jumps:
                self._ensure_jump(version, table, hook, chain)
            self._applied[load.key] = load.remember or load.text
            if load.chains is not None:
                self._chains[version] = set(load.chains)
            if load.chain_rules is not None:
                self._chain_rules[version] = load.chain_rules

    def _zone_loads(self, state: HostState, recheck: bool, force: bool) -> list[tuple[int, _Load]]:
        """The raw table rules of the conntrack zones to load, per family, when their text
        changed (or ours went missing); forgets the flows of zones whose network left."""
        saved: dict[int, SavedZones] | None = None
        kept = self._zones
        taken: set[int] = set()
        if recheck or kept is None:
            saved = {v: parse_saved(self.names, self._save(v, "raw")) for v in (4, 6)}
            taken = saved[4].foreign | saved[6].foreign
            if kept is None:  # an agent (re)start: the zones the host carries stay
                bridges = {self.names.bridge(n.id): n.id for n in state.networks}
                kept = {
                    bridges[bridge]: zone
                    for v in (6, 4)  # IPv4's wins if the two disagree
                    for bridge, zone in saved[v].ours.items()
                    if bridge in bridges
                }
                # Networks that left while no agent ran: their zones' flows are forgotten too.
                gone = {z for v in (4, 6) for b, z in saved[v].ours.items() if b not in bridges}
                self._forget_zones(gone - set(kept.values()))
        zones = assign_zones((n.id for n in zoned(state.networks)), kept, taken)
        text = render_raw(self.names, state, zones)
        wanted = {self.names.zone_chain, self.names.zone_output_chain}
        out: list[tuple[int, _Load]] = []
        for version in (4, 6):
            key = f"raw{version}"
            intact = saved is None or (
                saved[version].chains == wanted and saved[version].jumps == {"PREROUTING", "OUTPUT"}
            )
            if not force and intact and self._applied.get(key) == text:
                continue
            jumps = (
                ("raw", "PREROUTING", self.names.zone_chain),
                ("raw", "OUTPUT", self.names.zone_output_chain),
            )
            out.append((version, _Load(key, text, jumps)))
        if self._zones is not None:
            self._forget_zones(set(self._zones.values()) - set(zones.values()))
        self._zones = zones
        return out

    def _save(self, ip_version: int, table: str) -> str:
        return run([self.TOOLS[ip_version][1], "-t", table]).stdout

    @staticmethod
    def _forget_zones(zones: Iterable[int]) -> None:
        """Delete every conntrack entry of zones no network uses any more, so that a network
        given one of them later starts with none of its predecessor's flows."""
        for zone in sorted(zones):
            for family in ("ipv4", "ipv6"):
                # Exit status 1 only means there was nothing to delete.
                run(["conntrack", "-D", "-f", family, "-w", str(zone)], check=False)

    def _forget_revoked_flows(self, state: HostState, rulesets: Iterable[Ruleset]) -> None:
        """Delete the conntrack entries of every port that lost a rule, as Neutron does.

        Without this, a connection a removed rule had let in would live on as ESTABLISHED.
        The kernel picks up a still-allowed TCP flow again mid-stream (tcp_loose), so only
        what the rules no longer allow is cut.
        """
        chains: dict[str, tuple[str, ...]] = {}
        for ruleset in rulesets:
            for chain, lines in ruleset.by_chain().items():
                chains[chain] = chains.get(chain, ()) + lines
        now: dict[str, frozenset[str]] = {}
        for port in state.ports:
            mine = (self.names.ingress_chain(port.id), self.names.egress_chain(port.id))
            now[port.id] = frozenset(line for chain in mine for line in chains.get(chain, ()))
        by_id = {p.id: p for p in state.ports}
        for port_id, before in self._port_rules.items():
            kept = by_id.get(port_id)
            if kept is None or not before - now.get(port_id, frozenset()):
                continue
            zone = str(self.zone(kept.network_id))  # another network's same address stays
            for fixed in kept.fixed_ips:
                for direction in ("-d", "-s"):
                    # Exit status 1 only means there was nothing to delete.
                    run(
                        ["conntrack", "-D", "-w", zone, direction, fixed.ip_address],
                        check=False,
                    )
        self._port_rules = now

    def recheck_soon(self) -> None:
        """Look at the host again at the next apply (the drift check found a jump gone)."""
        self._jumps_checked = 0.0
        self._jumps_seen.clear()

    def teardown(self) -> None:
        """Remove our jumps, chains and sets; the host's chains and policies stay as they were."""
        self.recheck_soon()
        errors = []
        for version in (4, 6):
            tool = self.TOOLS[version][0]
            self._remove_jump(version, "filter", "FORWARD", self.names.forward_chain)
            chains = self._our_chains(version, "filter")
            if chains:
                text = "*filter\n" + "".join(f"-F {c}\n" for c in sorted(chains))
                text += "".join(f"-X {c}\n" for c in sorted(chains)) + "COMMIT\n"
                try:
                    run([self.TOOLS[version][2], "--noflush"], input=text)
                except DataplaneError as exc:
                    errors.append(f"{tool}: {exc}")
        zones: set[int] = set()
        for version in (4, 6):
            tool = self.TOOLS[version][0]
            self._remove_jump(version, "raw", "PREROUTING", self.names.zone_chain)
            self._remove_jump(version, "raw", "OUTPUT", self.names.zone_output_chain)
            saved = parse_saved(self.names, self._save(version, "raw"))
            zones.update(saved.ours.values())
            if saved.chains:
                text = "*raw\n" + "".join(f"-F {c}\n" for c in sorted(saved.chains))
                text += "".join(f"-X {c}\n" for c in sorted(saved.chains)) + "COMMIT\n"
                try:
                    run([self.TOOLS[version][2], "--noflush"], input=text)
                except DataplaneError as exc:
                    errors.append(f"{tool} raw: {exc}")
        self._forget_zones(zones | set((self._zones or {}).values()))
        self._zones = None
        self._remove_jump(4, "nat", "POSTROUTING", self.names.postrouting_chain)
        if self.names.postrouting_chain in self._our_chains(4, "nat"):
            chain = self.names.postrouting_chain
            run(["iptables-restore", "--noflush"], input=f"*nat\n-F {chain}\n-X {chain}\nCOMMIT\n")
        self._applied.clear()
        self._chains.clear()
        self._chain_rules.clear()
        self.ipsets.destroy_stale(set())
        if errors:
            raise DataplaneError(reason="; ".join(errors))
