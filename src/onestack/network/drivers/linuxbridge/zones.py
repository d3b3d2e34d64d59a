"""Conntrack zones: one per network, so overlapping tenant CIDRs never share a flow.

Bridged traffic of every network passes the host's one conntrack table (br_netfilter), keyed
by addresses and ports only: two projects both on 10.0.0.0/24 would see each other's flows
(a packet of one network matching an ESTABLISHED entry the other created). As Neutron's
iptables firewall does, the raw table sends each network's traffic to a zone of its own:

  raw PREROUTING -> P-ZONE (one jump, inserted first; the chain policies are never touched)
  P-ZONE: -m physdev --physdev-in <tap | DHCP veth | router veth> -j CT --zone N
          -i <bridge> -j CT --zone N    (the rest of the bridge: VXLAN from other hosts)
  raw OUTPUT -> P-ZOUT
  P-ZOUT: -o <bridge> -j CT --zone N    (the host's own packets on the bridge: IPv6 ND, MLD)

``CT`` only sets a template on a packet conntrack has not seen yet, so the first rule that
matches decides and the bridge-wide rule after a port's rule changes nothing for that port.

Which zone. Segmentation ids do not fit (a VNI is 24 bits, zones are 16; flat and local
networks have none; a VLAN and a VXLAN may share a number), and a bare hash of the network
id collides by the birthday bound (about 7% with 100 networks on a host). So a network's
zone is a hash of its id (1..65535, zone 0 is the host's) unless that is taken, then the next
free one; and a zone once given is kept for as long as the network is on the host. What the
agent gave is read back from the raw table itself when it starts: the rules live exactly as
long as the conntrack entries they describe (both are kernel state, both end at a reboot), so
no file can disagree with them, and an agent restart changes no zone. Zones that rules outside
our chains use (another cloud's prefix, Neutron) are avoided for new networks.

External networks stay in the host's zone 0: the host itself routes and masquerades them
toward its uplink, and the replies arriving there are looked up in zone 0; their addresses are
unique anyway, being routes of the host.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from onestack.network.drivers.base import HostState, Network
from onestack.network.drivers.linuxbridge.names import Names

MAX_ZONE = 65535  # conntrack zones are 16 bits; 0 is the default zone of the host
_ZONE = re.compile(r"--zone(?:-orig|-reply)?\s+(\d+)")


def zoned(networks: Iterable[Network]) -> list[Network]:
    """The networks that get a zone of their own (all but the host-routed external ones)."""
    return sorted((n for n in networks if not n.external), key=lambda n: n.id)


def preferred_zone(network_id: str) -> int:
    """Where a network's zone is looked for first: stable, spread over 1..65535."""
    digest = hashlib.sha256(network_id.encode()).digest()
    return 1 + int.from_bytes(digest[:4], "big") % MAX_ZONE


def assign_zones(
    network_ids: Iterable[str], kept: dict[str, int], taken: Iterable[int] = ()
) -> dict[str, int]:
    """A distinct zone per network: those in ``kept`` keep theirs, the others get their
    preferred zone or the next one free of ``kept`` and of ``taken`` (zones of others)."""
    ids = sorted(set(network_ids))
    out: dict[str, int] = {}
    used: set[int] = set()
    for network_id in ids:
        zone = kept.get(network_id)
        if zone is not None and 1 <= zone <= MAX_ZONE and zone not in used:
            out[network_id] = zone
            used.add(zone)
    used.update(taken)
    for network_id in ids:
        if network_id in out:
            continue
        zone = preferred_zone(network_id)
        for _ in range(MAX_ZONE):
            if zone not in used:
                break
            zone = zone % MAX_ZONE + 1
        else:
            raise ValueError("no conntrack zone left on this host")
        out[network_id] = zone
        used.add(zone)
    return out


@dataclass
class SavedZones:
    """What one ``iptables-save -t raw`` says about zones."""

    ours: dict[str, int] = field(default_factory=dict)  # bridge name -> zone
    foreign: set[int] = field(default_factory=set)  # zones of rules outside our chains
    chains: set[str] = field(default_factory=set)  # our chains that exist
    jumps: set[str] = field(default_factory=set)  # "PREROUTING" / "OUTPUT" if our jump is there


def parse_saved(names: Names, text: str) -> SavedZones:
    saved = SavedZones()
    ours = (names.zone_chain, names.zone_output_chain)
    hooks = {"PREROUTING": names.zone_chain, "OUTPUT": names.zone_output_chain}
    for line in text.splitlines():
        if line.startswith(":"):
            chain = line[1:].split()[0]
            if chain in ours:
                saved.chains.add(chain)
            continue
        if not line.startswith("-A "):
            continue
        words = line.split()
        chain = words[1]
        if chain in hooks and words[2:] == ["-j", hooks[chain]]:
            saved.jumps.add(chain)
        match = _ZONE.search(line)
        if match is None:
            continue
        zone = int(match.group(1))
        if chain not in ours:
            saved.foreign.add(zone)
        elif chain == names.zone_chain and words[2] == "-i":
            saved.ours[words[3]] = zone
    return saved


def render_raw(names: Names, state: HostState, zones: dict[str, int]) -> str:
    """The raw table text (both families) putting each network's traffic in its zone (pure).

    One rule per network, not per port: br_netfilter hands bridged packets to PREROUTING with
    the bridge as their in-device, whichever port (tap, DHCP or router veth, VXLAN) they came
    from, so the rules change only when a network comes or goes, never on a port's churn."""
    pre, out = names.zone_chain, names.zone_output_chain
    lines = ["*raw", f":{pre} - [0:0]", f":{out} - [0:0]"]
    for network in zoned(state.networks):
        zone = zones.get(network.id)
        if zone is None:
            continue
        bridge = names.bridge(network.id)
        lines.append(f"-A {pre} -i {bridge} -j CT --zone {zone}")  # everything bridged on it
        lines.append(f"-A {out} -o {bridge} -j CT --zone {zone}")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"
