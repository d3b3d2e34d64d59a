"""Networking tables. Only ``network.service`` writes them.

Every API resource carries Neutron's standard attributes (``created_at``, ``updated_at``,
``revision_number``, ``description``); tags live in one table keyed by resource type and id.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onestack.common.db import Base, UTCDateTime, utcnow


def uuid_str() -> str:
    """Neutron's ids are dashed UUIDs."""
    return str(uuid.uuid4())


class Standard:
    """Neutron's standard attributes, shared by every resource."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=uuid_str)
    description: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revision_number: Mapped[int] = mapped_column(Integer, default=0)


class Owned(Standard):
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")


class Network(Owned, Base):
    __tablename__ = "network_network"
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    external: Mapped[bool] = mapped_column(Boolean, default=False)
    network_type: Mapped[str] = mapped_column(String(16))
    physical_network: Mapped[str | None] = mapped_column(String(64), nullable=True)
    segmentation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mtu: Mapped[int] = mapped_column(Integer)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    availability_zone_hints: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    qos_policy_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)


class Segment(Base):
    """One allocated segmentation id; the unique key makes concurrent allocation safe."""

    __tablename__ = "network_segment_allocation"
    __table_args__ = (
        UniqueConstraint(
            "network_type", "physical_network", "segmentation_id", name="uq_network_segment_id"
        ),
    )
    network_id: Mapped[str] = mapped_column(
        ForeignKey("network_network.id", ondelete="CASCADE"), primary_key=True
    )
    network_type: Mapped[str] = mapped_column(String(16))
    physical_network: Mapped[str] = mapped_column(String(64), default="")  # "" for vxlan
    segmentation_id: Mapped[int] = mapped_column(Integer)


class Subnet(Owned, Base):
    __tablename__ = "network_subnet"
    network_id: Mapped[str] = mapped_column(
        ForeignKey("network_network.id", ondelete="CASCADE"), index=True
    )
    ip_version: Mapped[int] = mapped_column(Integer)
    cidr: Mapped[str] = mapped_column(String(64))
    gateway_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enable_dhcp: Mapped[bool] = mapped_column(Boolean, default=True)
    allocation_pools: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    dns_nameservers: Mapped[list[str]] = mapped_column(JSON, default=list)
    host_routes: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    ipv6_ra_mode: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ipv6_address_mode: Mapped[str | None] = mapped_column(String(32), nullable=True)
    subnetpool_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)


# A class comes after the classes its relationships name: ``onestack api`` answers while a
# thread imports this module, and a request's query configures every mapper mapped so far
# (tests/unit/test_mapper_order.py).
class IPAllocation(Base):
    """A fixed IP of a port. Unique per network: two ports can never get one address."""

    __tablename__ = "network_ip_allocation"
    __table_args__ = (UniqueConstraint("network_id", "ip_address"),)
    port_id: Mapped[str] = mapped_column(
        ForeignKey("network_port.id", ondelete="CASCADE"), primary_key=True
    )
    ip_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    subnet_id: Mapped[str] = mapped_column(
        ForeignKey("network_subnet.id", ondelete="CASCADE"), index=True
    )
    network_id: Mapped[str] = mapped_column(String(36))
    position: Mapped[int] = mapped_column(Integer, default=0)


class PortSecurityGroup(Base):
    __tablename__ = "network_port_secgroup"
    port_id: Mapped[str] = mapped_column(
        ForeignKey("network_port.id", ondelete="CASCADE"), primary_key=True
    )
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("network_secgroup.id"), primary_key=True, index=True
    )


class Port(Owned, Base):
    __tablename__ = "network_port"
    __table_args__ = (UniqueConstraint("network_id", "mac_address"),)
    network_id: Mapped[str] = mapped_column(
        ForeignKey("network_network.id", ondelete="CASCADE"), index=True
    )
    mac_address: Mapped[str] = mapped_column(String(32))
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")
    device_owner: Mapped[str] = mapped_column(String(255), default="", index=True)
    device_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    binding_host_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    binding_vif_type: Mapped[str] = mapped_column(String(64), default="unbound")
    # What the host's agent reported for plugging it (``devname``: the tap).
    binding_vif_details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    binding_vnic_type: Mapped[str] = mapped_column(String(64), default="normal")
    binding_profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    allowed_address_pairs: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # {opt_name, opt_value, ip_version} each, rendered into the network's dnsmasq options.
    extra_dhcp_opts: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    fixed_ips: Mapped[list[IPAllocation]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="IPAllocation.position"
    )
    security_group_bindings: Mapped[list[PortSecurityGroup]] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )
    # The port's own QoS policy; when None the network's applies (Neutron's precedence).
    qos_policy_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)


class SecurityGroupRule(Standard, Base):
    __tablename__ = "network_secgroup_rule"
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("network_secgroup.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(16))
    ethertype: Mapped[str] = mapped_column(String(8))
    protocol: Mapped[str | None] = mapped_column(String(40), nullable=True)
    port_range_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    port_range_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    remote_group_id: Mapped[str | None] = mapped_column(
        ForeignKey("network_secgroup.id", ondelete="CASCADE"), nullable=True, index=True
    )


class SecurityGroup(Owned, Base):
    __tablename__ = "network_secgroup"
    stateful: Mapped[bool] = mapped_column(Boolean, default=True)
    rules: Mapped[list[SecurityGroupRule]] = relationship(
        lazy="selectin",
        cascade="all, delete-orphan",
        foreign_keys="SecurityGroupRule.security_group_id",
        order_by="SecurityGroupRule.created_at",
    )


class DefaultSecurityGroup(Base):
    """One default group per project; the primary key settles concurrent lazy creation."""

    __tablename__ = "network_default_secgroup"
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("network_secgroup.id", ondelete="CASCADE"), unique=True
    )


class Router(Owned, Base):
    __tablename__ = "network_router"
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    gw_port_id: Mapped[str | None] = mapped_column(
        ForeignKey("network_port.id", ondelete="SET NULL"), nullable=True
    )
    enable_snat: Mapped[bool] = mapped_column(Boolean, default=True)
    routes: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    availability_zone_hints: Mapped[list[str]] = mapped_column(JSON, default=list)


class FloatingIP(Standard, Base):
    __tablename__ = "network_floatingip"
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    floating_network_id: Mapped[str] = mapped_column(ForeignKey("network_network.id"), index=True)
    floating_ip_address: Mapped[str] = mapped_column(String(64))
    floating_port_id: Mapped[str] = mapped_column(String(36))
    port_id: Mapped[str | None] = mapped_column(
        ForeignKey("network_port.id", ondelete="SET NULL"), nullable=True, index=True
    )
    fixed_ip_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    router_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")


class PortForwarding(Standard, Base):
    __tablename__ = "network_port_forwarding"
    __table_args__ = (
        UniqueConstraint(
            "floatingip_id", "protocol", "external_port", name="uq_network_pf_external"
        ),
    )
    floatingip_id: Mapped[str] = mapped_column(
        ForeignKey("network_floatingip.id", ondelete="CASCADE"), index=True
    )
    internal_port_id: Mapped[str] = mapped_column(
        ForeignKey("network_port.id", ondelete="CASCADE"), index=True
    )
    internal_ip_address: Mapped[str] = mapped_column(String(64))
    internal_port: Mapped[int] = mapped_column(Integer)
    external_port: Mapped[int] = mapped_column(Integer)
    protocol: Mapped[str] = mapped_column(String(8))


class RBACPolicy(Base):
    __tablename__ = "network_rbac_policy"
    __table_args__ = (
        UniqueConstraint(
            "object_type", "object_id", "action", "target_project", name="uq_network_rbac_target"
        ),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=uuid_str)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(32))
    target_project: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AddressScope(Owned, Base):
    __tablename__ = "network_address_scope"
    ip_version: Mapped[int] = mapped_column(Integer)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)


class SubnetPool(Owned, Base):
    __tablename__ = "network_subnetpool"
    ip_version: Mapped[int] = mapped_column(Integer)
    prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    default_prefixlen: Mapped[int] = mapped_column(Integer)
    min_prefixlen: Mapped[int] = mapped_column(Integer)
    max_prefixlen: Mapped[int] = mapped_column(Integer)
    default_quota: Mapped[int | None] = mapped_column(Integer, nullable=True)
    address_scope_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class Tag(Base):
    __tablename__ = "network_tag"
    resource_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tag: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(32))
    __table_args__ = (Index("ix_network_tag_tag", "tag"),)


class Quota(Base):
    __tablename__ = "network_quota"
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource: Mapped[str] = mapped_column(String(64), primary_key=True)
    limit: Mapped[int] = mapped_column(Integer)


class Agent(Base):
    __tablename__ = "network_agent"
    __table_args__ = (UniqueConstraint("agent_type", "host"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=uuid_str)
    agent_type: Mapped[str] = mapped_column(String(64))
    binary: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(255), default="N/A")
    host: Mapped[str] = mapped_column(String(255))
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    availability_zone: Mapped[str | None] = mapped_column(String(255), nullable=True)
    configurations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MeteringLabel(Owned, Base):
    """A metering label: the traffic of its project's routers its rules select."""

    __tablename__ = "network_metering_label"
    shared: Mapped[bool] = mapped_column(Boolean, default=False)


class MeteringLabelRule(Base):
    __tablename__ = "network_metering_label_rule"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=uuid_str)
    metering_label_id: Mapped[str] = mapped_column(
        ForeignKey("network_metering_label.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(16))
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source_ip_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    destination_ip_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AutoAllocatedTopology(Base):
    """A project's get-me-a-network topology. The row is inserted first, without a network,
    as the claim of the one request that builds it: the primary key makes concurrent first
    requests build once."""

    __tablename__ = "network_auto_allocated_topology"
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    network_id: Mapped[str | None] = mapped_column(
        ForeignKey("network_network.id", ondelete="CASCADE"), nullable=True
    )
    router_id: Mapped[str | None] = mapped_column(
        ForeignKey("network_router.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Flavor(Base):
    """A network flavor (Neutron's flavors extension): a named choice of service profiles for
    a service type. Flavors are global: no project owns or sees them apart."""

    __tablename__ = "network_flavor"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=uuid_str)
    name: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(String(1024), default="")
    service_type: Mapped[str] = mapped_column(String(36))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class ServiceProfile(Base):
    __tablename__ = "network_service_profile"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=uuid_str)
    description: Mapped[str] = mapped_column(String(1024), default="")
    driver: Mapped[str] = mapped_column(String(1024), default="")
    metainfo: Mapped[str] = mapped_column(String(4096), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class FlavorServiceProfile(Base):
    __tablename__ = "network_flavor_service_profile"
    # Named here: the conventional names outgrow MariaDB's 64 characters.
    flavor_id: Mapped[str] = mapped_column(
        ForeignKey("network_flavor.id", ondelete="CASCADE", name="fk_network_flavor_sp_flavor"),
        primary_key=True,
    )
    service_profile_id: Mapped[str] = mapped_column(
        ForeignKey(
            "network_service_profile.id", ondelete="CASCADE", name="fk_network_flavor_sp_profile"
        ),
        primary_key=True,
    )


class Trunk(Owned, Base):
    """A VLAN-aware port (Neutron's trunk extension): a parent port and tagged sub-ports."""

    __tablename__ = "network_trunk"
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    port_id: Mapped[str] = mapped_column(
        ForeignKey("network_port.id", ondelete="CASCADE"), unique=True
    )


class SubPort(Base):
    __tablename__ = "network_trunk_subport"
    __table_args__ = (
        UniqueConstraint(
            "trunk_id", "segmentation_type", "segmentation_id", name="uq_network_trunk_segment"
        ),
    )
    port_id: Mapped[str] = mapped_column(
        ForeignKey("network_port.id", ondelete="CASCADE"), primary_key=True
    )
    trunk_id: Mapped[str] = mapped_column(
        ForeignKey("network_trunk.id", ondelete="CASCADE"), index=True
    )
    segmentation_type: Mapped[str] = mapped_column(String(32))
    segmentation_id: Mapped[int] = mapped_column(Integer)


class QosPolicy(Owned, Base):
    """A QoS policy: its rules apply to the ports that name it, or whose network does."""

    __tablename__ = "network_qos_policy"
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class QosRule(Base):
    """One rule of a policy: ``bandwidth_limit`` (``max_kbps``, ``max_burst_kbps``,
    ``direction``), ``minimum_bandwidth`` (``min_kbps``, ``direction``) or ``dscp_marking``
    (``dscp_mark``, direction ""). The unique key keeps one rule of a type per direction in a
    policy, as Neutron does."""

    __tablename__ = "network_qos_rule"
    __table_args__ = (
        UniqueConstraint("qos_policy_id", "rule_type", "direction", name="uq_network_qos_rule"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=uuid_str)
    qos_policy_id: Mapped[str] = mapped_column(
        ForeignKey("network_qos_policy.id", ondelete="CASCADE"), index=True
    )
    rule_type: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(16), default="")
    max_kbps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_burst_kbps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dscp_mark: Mapped[int | None] = mapped_column(Integer, nullable=True)
    min_kbps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AgentHosting(Base):
    """An administrator's say on which agent hosts a network's DHCP (``kind`` "dhcp") or a
    router (``kind`` "l3"): ``hosted`` True adds it to the agent, False takes it off the
    agent that would host it by default (the agent on the host that serves everything)."""

    __tablename__ = "network_agent_hosting"
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agent_id: Mapped[str] = mapped_column(
        ForeignKey("network_agent.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    hosted: Mapped[bool] = mapped_column(Boolean, default=True)
