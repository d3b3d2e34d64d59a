"""Routers: one namespace per router with its interfaces, gateway, NAT and static routes.

Inside ``<prefix>-router-<id>``: a ``qr-`` veth per router interface port (its peer on the
tenant network's bridge) holding that port's MAC and gateway addresses, a ``qg-`` veth on the
external network's bridge holding the gateway port's addresses and each floating IP (whether
associated with a port or carrying port forwardings) as a /32, IP forwarding switched on in that
namespace only, a nat table rendered by ``render_router_nat`` and a filter table counting the
router's metering labels (see ``meter``), each loaded whole: the namespace is ours.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from onestack.network.drivers.base import Network, Port, PortForwarding, Router, Subnet
from onestack.network.drivers.linuxbridge.l2 import (
    Host,
    Link,
    create_netns,
    delete_netns,
    list_netns,
)
from onestack.network.drivers.linuxbridge.meter import Meters
from onestack.network.drivers.linuxbridge.names import Names
from onestack.network.drivers.linuxbridge.shell import DataplaneError, run


@dataclass(frozen=True)
class Wiring:
    """Where the router's ports go: subnets by id and the bridges of the host's networks."""

    subnets: dict[str, Subnet]
    networks: dict[str, Network]
    bridges: dict[str, Link]  # network id -> bridge


def port_addresses(port: Port, subnets: dict[str, Subnet]) -> set[tuple[str, int]]:
    out = set()
    for fixed in port.fixed_ips:
        subnet = subnets.get(fixed.subnet_id)
        if subnet is not None:
            out.add((fixed.ip_address, ipaddress.ip_network(subnet.cidr, strict=False).prefixlen))
    return out


def gateway_ipv4(router: Router, subnets: dict[str, Subnet]) -> str | None:
    if router.gateway is None:
        return None
    for fixed in router.gateway.port.fixed_ips:
        subnet = subnets.get(fixed.subnet_id)
        if subnet is not None and subnet.ip_version == 4:
            return fixed.ip_address
    return None


def render_router_nat(router: Router, subnets: dict[str, Subnet]) -> str:
    """The router namespace's nat table (pure: unit tested)."""
    lines = [
        "*nat",
        ":PREROUTING ACCEPT [0:0]",
        ":INPUT ACCEPT [0:0]",
        ":OUTPUT ACCEPT [0:0]",
        ":POSTROUTING ACCEPT [0:0]",
    ]
    gateway = router.gateway
    if gateway is not None:
        qg = Names.gateway_inner(gateway.port.id)
        # Traffic routed between the router's own subnets keeps its addresses.
        lines.append(f"-A POSTROUTING ! -o {qg} -m conntrack ! --ctstate DNAT -j ACCEPT")
        for fip in sorted(router.floating_ips, key=lambda f: f.floating_ip_address):
            lines.append(
                f"-A PREROUTING -d {fip.floating_ip_address}/32 -j DNAT "
                f"--to-destination {fip.fixed_ip_address}"
            )
            lines.append(
                f"-A OUTPUT -d {fip.floating_ip_address}/32 -j DNAT "
                f"--to-destination {fip.fixed_ip_address}"
            )
            lines.append(
                f"-A POSTROUTING -s {fip.fixed_ip_address}/32 -j SNAT "
                f"--to-source {fip.floating_ip_address}"
            )
        # Port forwardings: only the forwarded port of the floating IP leads in (as Neutron's
        # l3 agent renders them), from outside and from the namespace itself. Replies are
        # translated back by conntrack; the guest's own egress keeps the router's SNAT.
        for pf in sorted_forwardings(router):
            match = (
                f"-d {pf.floating_ip_address}/32 -p {pf.protocol} -m {pf.protocol} "
                f"--dport {pf.external_port} -j DNAT "
                f"--to-destination {pf.internal_ip_address}:{pf.internal_port}"
            )
            lines.append(f"-A PREROUTING {match}")
            lines.append(f"-A OUTPUT {match}")
        snat_to = gateway_ipv4(router, subnets)
        if gateway.enable_snat and snat_to:
            cidrs = set()
            for port in router.interfaces:
                for fixed in port.fixed_ips:
                    subnet = subnets.get(fixed.subnet_id)
                    if subnet is not None and subnet.ip_version == 4:
                        cidrs.add(str(ipaddress.ip_network(subnet.cidr, strict=False)))
            for cidr in sorted(cidrs):
                lines.append(f"-A POSTROUTING -s {cidr} -o {qg} -j SNAT --to-source {snat_to}")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def sorted_forwardings(router: Router) -> list[PortForwarding]:
    return sorted(
        router.port_forwardings,
        key=lambda p: (
            ipaddress.ip_address(p.floating_ip_address),
            p.protocol,
            p.external_port,
            p.id,
        ),
    )


def floating_addresses(router: Router) -> set[tuple[str, int]]:
    """Every floating IP the gateway answers for: associated ones and port-forwarding ones."""
    return {(f.floating_ip_address, 32) for f in router.floating_ips} | {
        (p.floating_ip_address, 32) for p in router.port_forwardings
    }


def desired_routes(router: Router, subnets: dict[str, Subnet]) -> set[tuple[str, str]]:
    routes = {
        (str(ipaddress.ip_network(r.destination, strict=False)), r.nexthop) for r in router.routes
    }
    if router.gateway is not None:
        for fixed in router.gateway.port.fixed_ips:
            subnet = subnets.get(fixed.subnet_id)
            if subnet is not None and subnet.gateway_ip:
                default = "0.0.0.0/0" if subnet.ip_version == 4 else "::/0"
                routes.add((default, subnet.gateway_ip))
    return routes


class Routers:
    """Converges router namespaces (blocking; called from the driver's thread)."""

    def __init__(self, names: Names) -> None:
        self.names = names
        self._nat: dict[str, str] = {}
        self._forwardings: dict[str, set[PortForwarding]] = {}
        self.meters = Meters()

    def ensure(self, host: Host, router: Router, wiring: Wiring) -> dict[str, str]:
        """Build one router; returns the status of each of its ports."""
        ns = self.names.router_ns(router.id)
        statuses: dict[str, str] = {}
        fresh = ns not in list_netns()
        if fresh:
            create_netns(ns)
            try:
                forwarding = ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]
                run(["sysctl", "-q", "-w", *forwarding], netns=ns)
            except DataplaneError:
                # Built only here: a namespace left without forwarding would never route.
                delete_netns(ns)
                raise
            self._nat.pop(router.id, None)
            self._forwardings.pop(router.id, None)
        plugs: list[tuple[Port, str, str, set[tuple[str, int]]]] = []
        for port in router.interfaces:
            plugs.append(
                (
                    port,
                    self.names.router_veth(port.id),
                    Names.router_inner(port.id),
                    port_addresses(port, wiring.subnets),
                )
            )
        if router.gateway is not None:
            gw = router.gateway.port
            fips = floating_addresses(router)
            plugs.append(
                (
                    gw,
                    self.names.gateway_veth(gw.id),
                    Names.gateway_inner(gw.id),
                    port_addresses(gw, wiring.subnets) | fips,
                )
            )
        with Host(ns) as inside:
            wanted_inner: set[str] = set()
            for port, outer, inner, addresses in plugs:
                bridge = wiring.bridges.get(port.network_id)
                network = wiring.networks.get(port.network_id)
                if bridge is None or network is None:
                    statuses[port.id] = "ERROR"
                    continue
                host.ensure_veth(outer, inside, inner, bridge, network.mtu, port.mac_address)
                inside.set_addresses(inner, addresses)
                wanted_inner.add(inner)
                statuses[port.id] = "ACTIVE" if port.admin_state_up else "DOWN"
            for name in inside.links():
                if name.startswith(("qr-", "qg-")) and name not in wanted_inner:
                    inside.delete(name)
            inside.set_gateway_routes(desired_routes(router, wiring.subnets))
        nat = render_router_nat(router, wiring.subnets)
        if self._nat.get(router.id) != nat:
            run(["iptables-restore"], input=nat, netns=ns)
            self._nat[router.id] = nat
            self._forget_flows(ns, router)
        self.meters.ensure(ns, router, fresh)
        return statuses

    def _forget_flows(self, ns: str, router: Router) -> None:
        """A removed (or retargeted) forwarding stops at once: the flows it had translated
        would otherwise keep reaching the old target until they end (what Neutron's port
        forwarding extension deletes too). Exit 1 means there was nothing to delete."""
        current = set(router.port_forwardings)
        for pf in self._forwardings.get(router.id, set()) - current:
            run(
                [
                    "conntrack", "-D", "-p", pf.protocol, "--orig-dst", pf.floating_ip_address,
                    "--orig-port-dst", str(pf.external_port),
                ],
                netns=ns,
                check=False,
            )  # fmt: skip
        self._forwardings[router.id] = current

    def forget(self, router_id: str) -> None:
        self.meters.forget(router_id)
        self._nat.pop(router_id, None)
        self._forwardings.pop(router_id, None)
