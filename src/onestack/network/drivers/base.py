"""The network data plane seam: what one host must look like, as plain values.

Vocabulary. The *agent* of a host asks the network service for that host's ``HostState`` (every
network with a port bound to the host, those ports, the DHCP ports it serves, the routers it
hosts, the security groups its ports use) and hands it to the *driver*, which makes the host
match it: creating what is missing, changing what differs and deleting whatever carries the
configured device prefix and that nothing in the state owns. ``apply`` is idempotent; calling it
twice with the same state changes nothing the second time. The driver never imports the
database: the agent hands it these values and reports back the ports it made ready.

Device names are derived from resource ids with the prefix (see ``names``) so that two clouds
on one host, or a test, each own their own devices and nothing of the host is ever touched.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field


@dataclass(frozen=True)
class HostRoute:
    destination: str  # CIDR
    nexthop: str


@dataclass(frozen=True)
class Subnet:
    id: str
    network_id: str
    cidr: str
    ip_version: int  # 4 or 6
    gateway_ip: str | None
    enable_dhcp: bool
    dns_nameservers: tuple[str, ...] = ()
    host_routes: tuple[HostRoute, ...] = ()
    ipv6_address_mode: str | None = None  # slaac, dhcpv6-stateful, dhcpv6-stateless
    ipv6_ra_mode: str | None = None


@dataclass(frozen=True)
class Network:
    id: str
    project_id: str
    network_type: str  # flat, vxlan, vlan, local
    segmentation_id: int | None
    physical_network: str | None  # for flat/vlan: the host bridge or device it maps to
    mtu: int
    external: bool
    admin_state_up: bool
    subnets: tuple[Subnet, ...] = ()


@dataclass(frozen=True)
class FixedIP:
    subnet_id: str
    ip_address: str


@dataclass(frozen=True)
class AddressPair:
    ip_address: str  # an address or a CIDR
    mac_address: str


@dataclass(frozen=True)
class QosRule:
    """One rule of a port's effective QoS policy. Directions are the guest's: ``egress`` is
    what the guest sends (the tap's ingress), ``ingress`` what it receives."""

    type: str  # bandwidth_limit or dscp_marking
    direction: str = ""  # bandwidth_limit: egress or ingress
    max_kbps: int = 0
    max_burst_kbps: int = 0  # 0: the driver's default burst
    dscp_mark: int = 0


@dataclass(frozen=True)
class Port:
    id: str
    network_id: str
    project_id: str
    mac_address: str
    fixed_ips: tuple[FixedIP, ...]
    device_owner: str  # "compute:nova", "network:dhcp", "network:router_interface", ...
    device_id: str
    admin_state_up: bool = True
    port_security_enabled: bool = True
    security_group_ids: tuple[str, ...] = ()
    allowed_address_pairs: tuple[AddressPair, ...] = ()
    hostname: str = ""  # dns_name, else "host-<ip with dashes>" as Neutron's DHCP agent writes
    # (ip_version, name, value) of each extra DHCP option (Neutron's extra_dhcp_opt).
    dhcp_opts: tuple[tuple[int, str, str], ...] = ()
    status: str = ""  # what the database says now (the agent reports where it is wrong)
    # The rules of the port's QoS policy (its own, else its network's); VM ports only.
    qos: tuple[QosRule, ...] = ()


@dataclass(frozen=True)
class SecurityGroupRule:
    id: str
    direction: str  # ingress or egress
    ethertype: str  # IPv4 or IPv6
    protocol: str | None  # None = any; a name (tcp, udp, icmp, ipv6-icmp, ...) or a number
    port_range_min: int | None = None  # for icmp: the type
    port_range_max: int | None = None  # for icmp: the code
    remote_ip_prefix: str | None = None
    remote_group_id: str | None = None


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    rules: tuple[SecurityGroupRule, ...]
    # Addresses of every port in the group on any host: what a remote-group rule matches.
    member_ips: tuple[str, ...] = ()


@dataclass(frozen=True)
class FloatingIP:
    id: str
    floating_ip_address: str
    fixed_ip_address: str
    port_id: str


@dataclass(frozen=True)
class PortForwarding:
    """A floating IP's port forwarding: ``floating_ip_address:external_port`` (``protocol``)
    to ``internal_ip_address:internal_port`` behind the router. The floating IP has no port."""

    id: str
    floating_ip_address: str
    protocol: str  # tcp or udp
    external_port: int
    internal_ip_address: str
    internal_port: int


@dataclass(frozen=True)
class MeteringRule:
    """One rule of a metering label: which traffic crossing the router's gateway it selects
    (``ingress``: coming in from the external network, ``egress``: going out to it).
    ``remote_ip_prefix`` is the far end's address (the source of ingress traffic, the
    destination of egress traffic); ``source_ip_prefix``/``destination_ip_prefix`` name
    each end as seen in the router. An ``excluded`` rule keeps what it selects uncounted."""

    direction: str  # ingress or egress
    excluded: bool = False
    remote_ip_prefix: str | None = None
    source_ip_prefix: str | None = None
    destination_ip_prefix: str | None = None


@dataclass(frozen=True)
class MeteringLabel:
    """A metering label that applies to a router (one of its project's, or a shared one)."""

    id: str
    project_id: str
    rules: tuple[MeteringRule, ...] = ()
    shared: bool = False


@dataclass(frozen=True)
class LabelCount:
    """Traffic one label counted on this host since the driver last answered."""

    label_id: str
    project_id: str
    pkts: int
    bytes: int


@dataclass(frozen=True)
class RouterGateway:
    network_id: str
    port: Port  # the router's port on the external network, with its external address
    enable_snat: bool = True


@dataclass(frozen=True)
class Router:
    id: str
    project_id: str
    admin_state_up: bool
    gateway: RouterGateway | None
    interfaces: tuple[Port, ...] = ()  # router interface ports (each holds its gateway IP)
    routes: tuple[HostRoute, ...] = ()
    floating_ips: tuple[FloatingIP, ...] = ()
    port_forwardings: tuple[PortForwarding, ...] = ()
    metering_labels: tuple[MeteringLabel, ...] = ()


@dataclass(frozen=True)
class HostState:
    """Everything one host must carry. Networks include every network any listed port,
    DHCP server or router interface is on (with all their subnets)."""

    host: str
    networks: tuple[Network, ...] = ()
    ports: tuple[Port, ...] = ()  # ports bound to this host that need a tap (VM ports)
    dhcp_ports: tuple[Port, ...] = ()  # the DHCP server port of each network served here
    routers: tuple[Router, ...] = ()
    security_groups: tuple[SecurityGroup, ...] = ()
    # Every port of every network served here (for the DHCP host files), keyed by network id.
    network_ports: dict[str, tuple[Port, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class PortStatus:
    port_id: str
    status: str  # ACTIVE, DOWN, BUILD, ERROR
    # The tap a hypervisor plugs into (VM ports), for the port's binding; not part of what
    # the status is.
    devname: str = field(default="", compare=False)


class DriverError(Exception):
    """A driver could not make the host match (or could not be made): a plain exception the
    agent, which calls the driver, logs and retries or turns into the service's error."""


class NetworkDriver(abc.ABC):
    """Makes one host's data plane match a ``HostState``."""

    name: str = ""

    @abc.abstractmethod
    async def apply(self, state: HostState) -> list[PortStatus]:
        """Converge the host on ``state``; return the status of each port in it."""

    @abc.abstractmethod
    def tap_name(self, port_id: str) -> str:
        """The tap device a hypervisor attaches to for this port (created by ``apply``)."""

    async def drift(self, state: HostState) -> list[str]:
        """What of ``state``, last applied, the host has lost since (a process that died, a
        device, namespace or rule deleted), found cheaply: the agent reconciles when this is
        not empty. Drivers that cannot tell answer nothing."""
        return []

    async def meter(self) -> list[LabelCount]:
        """The packets and bytes each metering label of the applied routers counted since
        the last call (every label the host carries, zero counts too: Neutron's metering
        agent reports them all). Drivers that count nothing answer nothing."""
        return []

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Stop anything the driver runs (dnsmasq, proxies); devices stay for the next start."""

    async def teardown(self) -> None:  # noqa: B027 - optional hook
        """Delete every device, namespace, rule and process this driver's prefix owns."""
