"""Every listable resource as the query engine sees it: columns, special filters, who sees
what, and how rows become dictionaries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common.http import query_bool
from onestack.network import errors as nerr
from onestack.network import models
from onestack.network.service import views
from onestack.network.service.agents import Agents
from onestack.network.service.base import Caller, network_visible
from onestack.network.service.flavors import render_flavors, render_profile
from onestack.network.service.ports import port_visible
from onestack.network.service.qos import policy_visible, render_policies
from onestack.network.service.query import OWNED as OWNED_COLUMNS
from onestack.network.service.query import STANDARD as STANDARD_COLUMNS
from onestack.network.service.query import Kind
from onestack.network.service.secgroups import group_visible, rule_visible
from onestack.network.service.trunks import render as render_trunks

Render = Callable[[AsyncSession, Sequence[Any], Caller], Awaitable[list[dict[str, Any]]]]
Visible = Callable[[Caller], ColumnElement[bool] | None]


@dataclass(frozen=True)
class Resource:
    kind: Kind
    visible: Visible
    render: Render


def _fixed_ips_filter(values: list[str]) -> ColumnElement[bool]:
    """``fixed_ips=ip_address=10.0.0.3`` / ``subnet_id=...`` / ``ip_address_substr=...``."""
    clauses = []
    for value in values:
        key, _, wanted = value.partition("=")
        if key == "ip_address":
            cond = models.IPAllocation.ip_address == wanted
        elif key == "subnet_id":
            cond = models.IPAllocation.subnet_id == wanted
        elif key == "ip_address_substr":
            cond = models.IPAllocation.ip_address.contains(wanted, autoescape=True)
        else:
            raise nerr.InvalidFilter(key=f"fixed_ips={key}")
        clauses.append(models.Port.id.in_(select(models.IPAllocation.port_id).where(cond)))
    return and_(*clauses)


def _port_groups_filter(values: list[str]) -> ColumnElement[bool]:
    return models.Port.id.in_(
        select(models.PortSecurityGroup.port_id).where(
            models.PortSecurityGroup.security_group_id.in_(values)
        )
    )


def _subnets_filter(values: list[str]) -> ColumnElement[bool]:
    return models.Network.id.in_(
        select(models.Subnet.network_id).where(models.Subnet.id.in_(values))
    )


def _subnet_external_filter(values: list[str]) -> ColumnElement[bool]:
    """``router:external=true`` on subnets: subnets of external networks (or of the others)."""
    wanted = {query_bool(value) for value in values}  # a bad value is a 400
    return models.Subnet.network_id.in_(
        select(models.Network.id).where(models.Network.external.in_(wanted))
    )


def _never_true_filter(values: list[str]) -> ColumnElement[bool]:
    """``ha`` and ``distributed`` on routers: no router is either, so false matches them all
    and true none."""
    wanted = {query_bool(value) for value in values}  # a bad value is a 400
    return true() if False in wanted else false()


def _agent_type_filter(values: list[str]) -> ColumnElement[bool]:
    """Neutron matches agent types in MySQL's case-insensitive collation: Tempest asks for
    ``DHCP Agent`` and finds the ``DHCP agent``."""
    return func.lower(models.Agent.agent_type).in_([v.lower() for v in values])


def _rbac_visible(caller: Caller) -> ColumnElement[bool] | None:
    if caller.is_admin:
        return None
    return or_(
        models.RBACPolicy.project_id == caller.project_id,
        models.RBACPolicy.target_project == caller.project_id,
    )


def _shared_or_owned(model: Any) -> Visible:
    def visible(caller: Caller) -> ColumnElement[bool] | None:
        if caller.is_admin:
            return None
        return or_(model.project_id == caller.project_id, model.shared.is_(True))

    return visible


def _owned(model: Any) -> Visible:
    def visible(caller: Caller) -> ColumnElement[bool] | None:
        return None if caller.is_admin else model.project_id == caller.project_id

    return visible


def _subnet_visible(caller: Caller) -> ColumnElement[bool] | None:
    if caller.is_admin:
        return None
    nets = select(models.Network.id)
    clause = network_visible(caller)
    if clause is not None:
        nets = nets.where(clause)
    return or_(models.Subnet.project_id == caller.project_id, models.Subnet.network_id.in_(nets))


async def _render_networks(s: AsyncSession, rows: Sequence[Any], c: Caller) -> list[dict[str, Any]]:
    return await views.networks(s, rows, c)


async def _render_subnets(s: AsyncSession, rows: Sequence[Any], _c: Caller) -> list[dict[str, Any]]:
    return await views.subnets(s, rows)


async def _render_ports(s: AsyncSession, rows: Sequence[Any], _c: Caller) -> list[dict[str, Any]]:
    return await views.ports(s, rows)


async def _render_groups(s: AsyncSession, rows: Sequence[Any], _c: Caller) -> list[dict[str, Any]]:
    return await views.security_groups(s, rows)


async def _render_rules(_s: AsyncSession, rows: Sequence[Any], _c: Caller) -> list[dict[str, Any]]:
    return [views.rule_dict(r) for r in rows]


async def _render_routers(s: AsyncSession, rows: Sequence[Any], _c: Caller) -> list[dict[str, Any]]:
    return await views.routers(s, rows)


async def _render_fips(s: AsyncSession, rows: Sequence[Any], _c: Caller) -> list[dict[str, Any]]:
    return await views.floating_ips(s, rows)


async def _render_rbac(_s: AsyncSession, rows: Sequence[Any], _c: Caller) -> list[dict[str, Any]]:
    return [views.rbac_dict(r) for r in rows]


async def _render_scopes(s: AsyncSession, rows: Sequence[Any], _c: Caller) -> list[dict[str, Any]]:
    return await views.address_scopes(s, rows)


async def _render_pools(s: AsyncSession, rows: Sequence[Any], _c: Caller) -> list[dict[str, Any]]:
    return await views.subnet_pools(s, rows)


async def _render_agents(_s: AsyncSession, rows: Sequence[Any], _c: Caller) -> list[dict[str, Any]]:
    return [views.agent_dict(r, Agents.alive(r)) for r in rows]


async def _render_labels(_s: AsyncSession, rows: Sequence[Any], _c: Caller) -> list[dict[str, Any]]:
    return [views.metering_label_dict(r) for r in rows]


async def _render_label_rules(
    _s: AsyncSession, rows: Sequence[Any], _c: Caller
) -> list[dict[str, Any]]:
    return [views.metering_rule_dict(r) for r in rows]


async def _render_flavors(s: AsyncSession, rows: Sequence[Any], _c: Caller) -> list[dict[str, Any]]:
    return await render_flavors(s, rows)


async def _render_profiles(
    _s: AsyncSession, rows: Sequence[Any], _c: Caller
) -> list[dict[str, Any]]:
    return [render_profile(r) for r in rows]


async def _render_trunks(s: AsyncSession, rows: Sequence[Any], _c: Caller) -> list[dict[str, Any]]:
    return await render_trunks(s, rows)


async def _render_qos(s: AsyncSession, rows: Sequence[Any], _c: Caller) -> list[dict[str, Any]]:
    return await render_policies(s, rows)


def _cols(*names: str, **renamed: str) -> dict[str, str]:
    return {**{n: n for n in names}, **renamed}


RESOURCES: dict[str, Resource] = {
    "networks": Resource(
        Kind(
            models.Network,
            "networks",
            {
                **OWNED_COLUMNS,
                **_cols(
                    "admin_state_up",
                    "status",
                    "shared",
                    "mtu",
                    "port_security_enabled",
                    "is_default",
                    "qos_policy_id",
                ),
                "router:external": "external",
                "provider:network_type": "network_type",
                "provider:physical_network": "physical_network",
                "provider:segmentation_id": "segmentation_id",
            },
            special={"subnets": _subnets_filter},
            ignored=frozenset({"availability_zone_hints", "availability_zones"}),
        ),
        network_visible,
        _render_networks,
    ),
    "subnets": Resource(
        Kind(
            models.Subnet,
            "subnets",
            {
                **OWNED_COLUMNS,
                **_cols(
                    "network_id",
                    "ip_version",
                    "cidr",
                    "gateway_ip",
                    "enable_dhcp",
                    "ipv6_ra_mode",
                    "ipv6_address_mode",
                    "subnetpool_id",
                ),
            },
            special={"router:external": _subnet_external_filter},
            ignored=frozenset({"segment_id"}),
        ),
        _subnet_visible,
        _render_subnets,
    ),
    "ports": Resource(
        Kind(
            models.Port,
            "ports",
            {
                **OWNED_COLUMNS,
                **_cols(
                    "network_id",
                    "mac_address",
                    "admin_state_up",
                    "status",
                    "device_owner",
                    "device_id",
                    "port_security_enabled",
                    "qos_policy_id",
                ),
                "binding:host_id": "binding_host_id",
                "binding:vif_type": "binding_vif_type",
                "binding:vnic_type": "binding_vnic_type",
            },
            special={"fixed_ips": _fixed_ips_filter, "security_groups": _port_groups_filter},
            core=True,
        ),
        port_visible,
        _render_ports,
    ),
    "security-groups": Resource(
        Kind(
            models.SecurityGroup,
            "security_groups",
            {**OWNED_COLUMNS, "stateful": "stateful"},
            ignored=frozenset({"shared"}),
        ),
        group_visible,
        _render_groups,
    ),
    "security-group-rules": Resource(
        Kind(
            models.SecurityGroupRule,
            None,
            {
                **STANDARD_COLUMNS,
                "project_id": "project_id",
                "tenant_id": "project_id",
                **_cols(
                    "security_group_id",
                    "direction",
                    "ethertype",
                    "protocol",
                    "port_range_min",
                    "port_range_max",
                    "remote_ip_prefix",
                    "remote_group_id",
                ),
            },
            ignored=frozenset({"remote_address_group_id", "normalized_cidr"}),
        ),
        rule_visible,
        _render_rules,
    ),
    "routers": Resource(
        Kind(
            models.Router,
            "routers",
            {**OWNED_COLUMNS, **_cols("admin_state_up", "status", "enable_snat")},
            special={"distributed": _never_true_filter, "ha": _never_true_filter},
        ),
        _owned(models.Router),
        _render_routers,
    ),
    "floatingips": Resource(
        Kind(
            models.FloatingIP,
            "floatingips",
            {
                **STANDARD_COLUMNS,
                "project_id": "project_id",
                "tenant_id": "project_id",
                **_cols(
                    "floating_network_id",
                    "floating_ip_address",
                    "port_id",
                    "fixed_ip_address",
                    "router_id",
                    "status",
                ),
            },
        ),
        _owned(models.FloatingIP),
        _render_fips,
    ),
    "rbac-policies": Resource(
        Kind(
            models.RBACPolicy,
            None,
            {
                "id": "id",
                "project_id": "project_id",
                "tenant_id": "project_id",
                "object_type": "object_type",
                "object_id": "object_id",
                "action": "action",
                "target_tenant": "target_project",
            },
        ),
        _rbac_visible,
        _render_rbac,
    ),
    "address-scopes": Resource(
        Kind(
            models.AddressScope,
            "address_scopes",
            {**OWNED_COLUMNS, **_cols("ip_version", "shared")},
        ),
        _shared_or_owned(models.AddressScope),
        _render_scopes,
    ),
    "subnetpools": Resource(
        Kind(
            models.SubnetPool,
            "subnetpools",
            {
                **OWNED_COLUMNS,
                **_cols(
                    "ip_version",
                    "default_prefixlen",
                    "min_prefixlen",
                    "max_prefixlen",
                    "address_scope_id",
                    "shared",
                    "is_default",
                    "default_quota",
                ),
            },
        ),
        _shared_or_owned(models.SubnetPool),
        _render_pools,
    ),
    "agents": Resource(
        Kind(
            models.Agent,
            None,
            _cols(
                "id",
                "agent_type",
                "binary",
                "topic",
                "host",
                "admin_state_up",
                "availability_zone",
                "description",
            ),
            special={"agent_type": _agent_type_filter},
            ignored=frozenset({"alive"}),
        ),
        lambda caller: None,
        _render_agents,
    ),
    "metering/metering-labels": Resource(
        Kind(
            models.MeteringLabel,
            None,
            _cols("id", "name", "description", "shared", "project_id", tenant_id="project_id"),
        ),
        _owned(models.MeteringLabel),
        _render_labels,
    ),
    "metering/metering-label-rules": Resource(
        Kind(
            models.MeteringLabelRule,
            None,
            _cols(
                "id",
                "metering_label_id",
                "direction",
                "excluded",
                "remote_ip_prefix",
                "source_ip_prefix",
                "destination_ip_prefix",
            ),
        ),
        lambda caller: None if caller.is_admin else models.MeteringLabelRule.id.is_(None),
        _render_label_rules,
    ),
    # Flavors are global: every reader sees every one (Neutron's get_flavor).
    "flavors": Resource(
        Kind(
            models.Flavor,
            None,
            _cols("id", "name", "description", "service_type", "enabled"),
        ),
        lambda caller: None,
        _render_flavors,
    ),
    "service_profiles": Resource(
        Kind(
            models.ServiceProfile,
            None,
            _cols("id", "description", "driver", "metainfo", "enabled"),
        ),
        lambda caller: None,
        _render_profiles,
    ),
    "trunks": Resource(
        Kind(
            models.Trunk,
            None,
            {**OWNED_COLUMNS, **_cols("admin_state_up", "port_id")},
            ignored=frozenset({"status", "sub_ports"}),
        ),
        _owned(models.Trunk),
        _render_trunks,
    ),
    "qos/policies": Resource(
        Kind(
            models.QosPolicy,
            None,
            {**OWNED_COLUMNS, **_cols("shared", "is_default")},
        ),
        policy_visible,
        _render_qos,
    ),
}
