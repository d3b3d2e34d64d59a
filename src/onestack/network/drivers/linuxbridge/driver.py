"""The Linux bridge driver: ties the layers together and reconciles one host with a HostState.

``apply`` runs the blocking netlink and iptables work in one worker thread, under one lock, in
this order: bridges (and VXLAN devices, and the external bridge's host address), taps, DHCP
namespaces with dnsmasq, router namespaces, then deletion of every prefixed namespace, link and
dnsmasq that the state no longer names, then the firewall. The metadata listeners live on the
event loop. A failure of one network, port or router marks its ports ERROR and the rest goes on;
the next apply retries it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from onestack.common.logging import get_logger
from onestack.network.drivers.base import (
    HostState,
    LabelCount,
    Network,
    NetworkDriver,
    Port,
    PortStatus,
)
from onestack.network.drivers.linuxbridge import drift, l2
from onestack.network.drivers.linuxbridge.dhcp import METADATA_IP, Dnsmasq
from onestack.network.drivers.linuxbridge.firewall import Firewall
from onestack.network.drivers.linuxbridge.l2 import Host, Link
from onestack.network.drivers.linuxbridge.l3 import Routers, Wiring, port_addresses
from onestack.network.drivers.linuxbridge.metadata import MetadataProxy, PortLookup
from onestack.network.drivers.linuxbridge.names import Names
from onestack.network.drivers.linuxbridge.qos import Qos
from onestack.network.drivers.linuxbridge.shell import DataplaneError

log = get_logger(__name__)

SUPPORTED_TYPES = ("flat", "vxlan", "local")


@dataclass
class DriverOptions:
    prefix: str = "os"
    run_dir: Path = Path("/run/onestack/os")
    dns_domain: str = "openstacklocal"
    dhcp_lease_time: int = 86400
    metadata_url: str = "http://127.0.0.1:8770/compute-metadata"
    metadata_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    metadata_port: int = 80
    vxlan_group: str = ""
    vxlan_local_ip: str = ""
    vxlan_interface: str = ""
    manage_host_ip_forward: bool = False


@dataclass
class _Result:
    statuses: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)  # network id -> DHCP namespace
    recreated: set[str] = field(default_factory=set)  # networks whose namespace is new


class LinuxBridgeDriver(NetworkDriver):
    name = "linuxbridge"

    def __init__(self, options: DriverOptions | None = None) -> None:
        self.options = options or DriverOptions()
        self.names = Names(self.options.prefix)
        self.dnsmasq = Dnsmasq(
            self.options.run_dir, self.options.dns_domain, self.options.dhcp_lease_time
        )
        self.firewall = Firewall(self.names)
        self.routers = Routers(self.names)
        self.qos = Qos(self.names)
        self.metadata = MetadataProxy(
            self.options.metadata_url,
            self.options.metadata_secret,
            METADATA_IP,
            self.options.metadata_port,
        )
        self._lock = asyncio.Lock()
        self._warned: set[str] = set()
        # Work of a round done beside it (``_unplug_gone_ports``): one thread, rounds being
        # one at a time; made when first needed, let go by ``close``.
        self._side: ThreadPoolExecutor | None = None

    def tap_name(self, port_id: str) -> str:
        return self.names.tap(port_id)

    def set_port_lookup(self, lookup: PortLookup) -> None:
        """How the metadata proxy finds the port behind a guest address (the agent's source)."""
        self.metadata.lookup = lookup

    # -- apply ----------------------------------------------------------------------------
    async def apply(self, state: HostState) -> list[PortStatus]:
        async with self._lock:
            wanted_dhcp = {p.network_id for p in state.dhcp_ports}
            for network_id in self.metadata.networks() - wanted_dhcp:
                await self.metadata.remove(network_id)
            result = await asyncio.to_thread(self._apply, state)
            for network_id, ns in sorted(result.metadata.items()):
                if network_id in result.recreated:
                    # A listener keeps the namespace it was made in, even a deleted one.
                    await self.metadata.remove(network_id)
                try:
                    await self.metadata.ensure(network_id, ns)
                except DataplaneError as exc:
                    log.error("metadata proxy for network %s: %s", network_id, exc)
            return [PortStatus(pid, status) for pid, status in sorted(result.statuses.items())]

    def _apply(self, state: HostState) -> _Result:
        names = self.names
        result = _Result()
        networks = {n.id: n for n in state.networks}
        subnets = {s.id: s for n in state.networks for s in n.subnets}
        wanted_links: set[str] = set()
        wanted_ns: set[str] = set()
        with Host() as host:
            unplugging = self._unplug_gone_ports(host, state)
            # Rules first (they match taps by name): a new port's tap reaches its bridge only
            # once its security groups are in force, never unfiltered for a moment.
            self.firewall.apply(state, [names.bridge(n.id) for n in state.networks])
            bridges = self._networks(host, state, wanted_links)
            for port in state.ports:
                self._tap(host, port, networks, bridges, wanted_links, result)
            wanted_links.update(self._qos(host, state))
            for port in state.dhcp_ports:
                self._dhcp(host, state, port, networks, bridges, wanted_links, wanted_ns, result)
            wiring = Wiring(subnets, networks, bridges)
            for router in state.routers:
                ports = [*router.interfaces, *([router.gateway.port] if router.gateway else [])]
                if not router.admin_state_up:
                    result.statuses.update({p.id: "DOWN" for p in ports})
                    continue
                wanted_ns.add(names.router_ns(router.id))
                wanted_links.update(names.router_veth(p.id) for p in router.interfaces)
                if router.gateway:
                    wanted_links.add(names.gateway_veth(router.gateway.port.id))
                try:
                    result.statuses.update(self.routers.ensure(host, router, wiring))
                except DataplaneError as exc:
                    log.error("router %s: %s", router.id, exc)
                    result.statuses.update({p.id: "ERROR" for p in ports})
            if unplugging is not None:
                unplugging.result()
            self._delete_orphans(host, wanted_links, wanted_ns, set(result.metadata))
        self._check_host(state)
        return result

    def _unplug_gone_ports(self, host: Host, state: HostState) -> Future[None] | None:
        """Start deleting the taps we made for ports no longer bound here, beside the rest of
        the round; the returned future is done when they are gone.

        A tap's deletion waits out the kernel's grace periods (20-40 ms here), as each
        firewall commit does: side by side, neither waits for the other, and a deleted
        port's tap goes at the start of the round, not after every other port's firewall
        and DHCP (#19). Its chains, DHCP entry and QoS go later in the round."""
        names = self.names
        wanted = {names.tap(p.id) for p in state.ports}
        tap_prefix = names.tap("")
        gone = []
        for name in sorted(host.names()):
            if name.startswith(tap_prefix) and names.owns_link(name) and name not in wanted:
                link = host.link(name)
                if link is not None and not self._plugged_by_someone_else(link):
                    gone.append(name)
        if not gone:
            return None
        host.changed(*gone)
        if self._side is None:
            self._side = ThreadPoolExecutor(1, thread_name_prefix="network-unplug")
        return self._side.submit(_delete_links, gone)

    def _networks(self, host: Host, state: HostState, wanted: set[str]) -> dict[str, Link]:
        bridges: dict[str, Link] = {}
        self._drop_stale_vxlans(host, state)
        for network in state.networks:
            if network.network_type not in SUPPORTED_TYPES:
                self._warn_once(
                    f"type-{network.id}",
                    "network %s: type %s is not supported on this host",
                    network.id,
                    network.network_type,
                )
                continue
            bridge_name = self.names.bridge(network.id)
            wanted.add(bridge_name)
            try:
                bridge = host.ensure_bridge(bridge_name, network.mtu)
                if network.network_type == "vxlan":
                    if network.segmentation_id is None:
                        raise DataplaneError(reason=f"vxlan network {network.id} has no VNI")
                    wanted.add(self.names.vxlan(network.id))
                    host.ensure_vxlan(
                        self.names.vxlan(network.id),
                        network.segmentation_id,
                        bridge,
                        network.mtu,
                        group=self.options.vxlan_group,
                        local=self.options.vxlan_local_ip,
                        device=self.options.vxlan_interface,
                    )
                if network.external and network.network_type == "flat":
                    # The host side of the public network: its gateway address on the bridge.
                    host.set_addresses(bridge_name, _gateway_addresses(network))
                bridges[network.id] = bridge
            except DataplaneError as exc:
                log.error("network %s: %s", network.id, exc)
        return bridges

    def _drop_stale_vxlans(self, host: Host, state: HostState) -> None:
        """A VNI is the host's once: the VXLAN device of a deleted network goes before a new
        network that got its VNI is made (else: "File exists"), not with the other orphans."""
        names = self.names
        wanted = {names.vxlan(n.id) for n in state.networks if n.network_type == "vxlan"}
        for name in sorted(host.names()):
            if names.owns_link(name) and name.startswith(names.vxlan("")) and name not in wanted:
                log.info("deleting stale vxlan device %s", name)
                host.delete(name)

    def _tap(
        self,
        host: Host,
        port: Port,
        networks: dict[str, Network],
        bridges: dict[str, Link],
        wanted: set[str],
        result: _Result,
    ) -> None:
        tap = self.names.tap(port.id)
        wanted.add(tap)
        bridge, network = bridges.get(port.network_id), networks.get(port.network_id)
        if bridge is None or network is None:
            result.statuses[port.id] = "ERROR"
            return
        up = port.admin_state_up and network.admin_state_up
        try:
            host.ensure_tap(tap, bridge, network.mtu, up)
            result.statuses[port.id] = "ACTIVE" if up else "DOWN"
        except DataplaneError as exc:
            log.error("port %s: %s", port.id, exc)
            result.statuses[port.id] = "ERROR"

    def _qos(self, host: Host, state: HostState) -> set[str]:
        """Each VM port's QoS on its tap (after the taps exist), and the DSCP rules; the ifb
        devices that shape the guests' egress."""
        taps: dict[str, int] = {}
        for port in state.ports:
            link = host.link(self.names.tap(port.id))
            if link is not None:
                taps[link.name] = link.index
        try:
            return self.qos.apply(state.ports, taps)
        except DataplaneError as exc:
            log.error("QoS DSCP rules: %s", exc)
            return {self.names.qos_ifb(p.id) for p in state.ports}

    def _dhcp(
        self,
        host: Host,
        state: HostState,
        port: Port,
        networks: dict[str, Network],
        bridges: dict[str, Link],
        wanted_links: set[str],
        wanted_ns: set[str],
        result: _Result,
    ) -> None:
        names = self.names
        ns = names.dhcp_ns(port.network_id)
        outer, inner = names.dhcp_veth(port.id), names.dhcp_inner(port.id)
        wanted_ns.add(ns)
        wanted_links.add(outer)
        bridge, network = bridges.get(port.network_id), networks.get(port.network_id)
        if bridge is None or network is None:
            result.statuses[port.id] = "ERROR"
            return
        subnets = {s.id: s for s in network.subnets}
        try:
            if l2.create_netns(ns):
                # A dnsmasq (or listener) of an earlier namespace of that name serves nobody.
                self.dnsmasq.stop_process(network.id)
                result.recreated.add(network.id)
            with Host(ns) as inside:
                host.ensure_veth(outer, inside, inner, bridge, network.mtu, port.mac_address)
                inside.set_addresses(inner, port_addresses(port, subnets) | {(METADATA_IP, 32)})
            ports = state.network_ports.get(network.id, ())
            self.dnsmasq.ensure(network, ns, inner, port, ports)
            result.statuses[port.id] = "ACTIVE"
            result.metadata[network.id] = ns
        except DataplaneError as exc:
            log.error("DHCP for network %s: %s", network.id, exc)
            result.statuses[port.id] = "ERROR"

    def _delete_orphans(
        self,
        host: Host,
        links: set[str],
        namespaces: set[str],
        dhcp_networks: set[str],
        everything: bool = False,
    ) -> None:
        names = self.names
        for ns in l2.list_netns():
            if names.owns_ns(ns) and ns not in namespaces:
                log.info("deleting orphaned namespace %s", ns)
                if ns.startswith(names.dhcp_ns("")):
                    self.dnsmasq.stop(ns[len(names.dhcp_ns("")) :])
                if ns.startswith(names.router_ns("")):
                    self.routers.forget(ns[len(names.router_ns("")) :])
                l2.delete_netns(ns)
        wanted_dhcp = {ns[len(names.dhcp_ns("")) :] for ns in namespaces}
        for network_id in self.dnsmasq.known():
            if network_id not in wanted_dhcp:
                self.dnsmasq.stop(network_id)
        # Taps and veths first, then the bridges they hung on.
        unwanted = [name for name in host.names() if names.owns_link(name) and name not in links]
        owned = []
        for name in unwanted:
            link = host.link(name)
            if everything or link is None or not self._plugged_by_someone_else(link):
                owned.append(name)
            elif link.master is not None:
                # Off the bridge, or its traffic would pass unfiltered (no port, no chains).
                log.info("detaching %s: its port is no longer bound here", name)
                host.detach(link)
        for name in sorted(owned, key=lambda n: n[len(names.prefix)] == "b"):
            log.info("deleting orphaned device %s", name)
            host.delete(name)

    def _plugged_by_someone_else(self, link: Link) -> bool:
        """A device named like a port's tap that we did not make (we make tun devices): a
        hypervisor or a test plugged it before the port was bound here. It is attached once
        the binding arrives; deleting it meanwhile would cut a guest's NIC."""
        return link.name.startswith(self.names.tap("")) and link.kind != "tun"

    def _check_host(self, state: HostState) -> None:
        """Host-wide switches we rely on: reported, changed only when the operator said so."""
        if _read_proc("/proc/sys/net/bridge/bridge-nf-call-iptables") != "1":
            self._warn_once(
                "br_netfilter",
                "net.bridge.bridge-nf-call-iptables is not 1 (br_netfilter not loaded?): "
                "security groups do not filter bridged traffic",
            )
        if (
            any(n.external for n in state.networks)
            and _read_proc("/proc/sys/net/ipv4/ip_forward") != "1"
        ):
            if self.options.manage_host_ip_forward:
                Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")
                log.warning("enabled net.ipv4.ip_forward on the host (manage_host_ip_forward)")
            else:
                self._warn_once(
                    "ip_forward",
                    "net.ipv4.ip_forward is 0 on this host: the external network reaches the "
                    "host but is not routed beyond it (set network.manage_host_ip_forward)",
                )

    def _warn_once(self, key: str, message: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message, *args)

    async def drift(self, state: HostState) -> list[str]:
        async with self._lock:  # not halfway through an apply
            lost = await asyncio.to_thread(drift.missing, self, state, SUPPORTED_TYPES)
        if any(what.startswith(drift.FORWARD_JUMP) for what in lost):
            self.firewall.recheck_soon()  # the repair round puts it back, not a later one
        return lost

    async def meter(self) -> list[LabelCount]:
        async with self._lock:  # not while an apply reloads the chains
            return await asyncio.to_thread(self.routers.meters.read)

    # -- lifecycle ------------------------------------------------------------------------
    async def close(self) -> None:
        async with self._lock:
            await self.metadata.close()
            for network_id in self.dnsmasq.known():
                await asyncio.to_thread(self.dnsmasq.stop_process, network_id)
            side, self._side = self._side, None
            if side is not None:
                await asyncio.to_thread(side.shutdown)

    async def teardown(self) -> None:
        async with self._lock:
            await self.metadata.close()
            await asyncio.to_thread(self._teardown)

    def _teardown(self) -> None:
        with Host() as host:
            self._delete_orphans(host, set(), set(), set(), everything=True)
        self.firewall.teardown()
        self.qos.teardown()


def _delete_links(names: list[str]) -> None:
    with Host() as host:
        for name in names:
            log.info("deleting the tap %s: its port is no longer bound here", name)
            host.delete(name)


def _gateway_addresses(network: Network) -> set[tuple[str, int]]:
    out = set()
    for subnet in network.subnets:
        if subnet.gateway_ip:
            plen = ipaddress.ip_network(subnet.cidr, strict=False).prefixlen
            out.add((subnet.gateway_ip, plen))
    return out


def _read_proc(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""
