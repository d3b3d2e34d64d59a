"""What the metadata service and the config drive know about one instance, as plain values.

The compute service fills an :class:`InstanceMetadata` from its tables and the network service
(ports, subnets, floating IPs); :mod:`.content` turns it into Nova's documents, and :mod:`.api`
serves them. Nothing here touches a database, so the content is testable on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class KeyInfo:
    """The instance's key pair (Nova exposes one: the one named at boot)."""

    name: str
    public_key: str
    type: str = "ssh"  # "ssh" or "x509"


@dataclass(frozen=True)
class HostRoute:
    destination: str  # a CIDR
    nexthop: str


@dataclass(frozen=True)
class SubnetInfo:
    id: str
    cidr: str
    ip_version: int  # 4 or 6
    gateway_ip: str | None = None
    dns_nameservers: tuple[str, ...] = ()
    host_routes: tuple[HostRoute, ...] = ()
    enable_dhcp: bool = True
    ipv6_address_mode: str | None = None  # slaac, dhcpv6-stateful, dhcpv6-stateless


@dataclass(frozen=True)
class FixedIPInfo:
    ip_address: str
    subnet: SubnetInfo


@dataclass(frozen=True)
class PortInfo:
    """One VIF of the instance, in the order the guest sees its NICs."""

    port_id: str
    network_id: str
    mac_address: str
    fixed_ips: tuple[FixedIPInfo, ...] = ()
    mtu: int | None = None  # the network's MTU
    vif_type: str = "bridge"  # the port's binding:vif_type
    devname: str = ""  # empty: "tap" + the first 11 characters of the port id, as Nova names it


@dataclass(frozen=True)
class DeviceInfo:
    """A tagged device (Nova's device role tagging), exposed in meta_data.json ``devices``."""

    type: str  # "nic" or "disk"
    bus: str = "none"  # pci, usb, scsi, ide, xen or none
    address: str = "none"  # e.g. "0000:00:02.0"
    tags: tuple[str, ...] = ()
    mac: str | None = None  # nic
    vlan: int | None = None  # nic
    vf_trusted: bool = False  # nic
    serial: str | None = None  # disk
    path: str | None = None  # disk


@dataclass(frozen=True)
class InjectedFile:
    """A personality file (compute API < 2.57): listed in meta_data.json ``files``."""

    path: str
    contents: bytes


@dataclass(frozen=True)
class InstanceMetadata:
    uuid: str
    name: str  # the display name
    hostname: str
    project_id: str
    availability_zone: str | None = "nova"
    launch_index: int = 0
    reservation_id: str = ""
    created_at: str = ""  # ISO 8601
    key: KeyInfo | None = None
    user_data: bytes | None = None  # decoded (the API takes it base64-encoded)
    metadata: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[PortInfo, ...] = ()
    floating_ips: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()  # names
    flavor_name: str = ""
    image_id: str = ""  # empty when booted from a volume
    # EC2 identifiers: Nova numbers instances and images in mapping tables and prints them as
    # i-%08x / ami-%08x. ec2_image_id None: derived from the image id.
    ec2_id: int = 0
    ec2_image_id: int | None = None
    root_device_name: str | None = "/dev/vda"
    ephemeral_devices: tuple[str, ...] = ()
    swap_device: str | None = None
    volume_devices: tuple[str, ...] = ()  # device names of attached volumes
    devices: tuple[DeviceInfo, ...] = ()
    dedicated_cpus: tuple[int, ...] = ()
    files: tuple[InjectedFile, ...] = ()
    password: str = ""  # what the guest posted to /openstack/latest/password (encrypted)
    vendor_data: Mapping[str, Any] = field(default_factory=dict)  # Nova's StaticJSON
    dhcp_domain: str = ""  # Nova's [api] dhcp_domain: appended to the hostname when set

    def fixed_ips(self, version: int | None = None) -> list[str]:
        """The fixed addresses of every port, in port order (of one IP version if given)."""
        return [
            ip.ip_address
            for port in self.ports
            for ip in port.fixed_ips
            if version is None or ip.subnet.ip_version == version
        ]


class MetadataLookup(Protocol):
    async def metadata_for(self, instance_uuid: str) -> InstanceMetadata | None:
        """The instance's metadata, or None when there is no such (live) instance."""
        ...


class PasswordStore(Protocol):
    async def set_password(self, instance_uuid: str, password: str) -> bool:
        """Store the password the guest posts; False when one is already set (Nova: 409)."""
        ...
