"""Rows to Neutron's resource dictionaries (all attributes; the API layer drops the ones the
caller may not see and those outside ``fields=``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.network import models
from onestack.network.service.base import Caller, rbac_shared_ids, tags_of
from onestack.network.service.secgroups import normalized_cidr


def ts(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"


def standard(row: Any, tags: dict[str, list[str]] | None) -> dict[str, Any]:
    out = {
        "description": row.description,
        "created_at": ts(row.created_at),
        "updated_at": ts(row.updated_at),
        "revision_number": row.revision_number,
    }
    if tags is not None:
        out["tags"] = list(tags.get(row.id, []))
    return out


def owner(project_id: str) -> dict[str, str]:
    return {"project_id": project_id, "tenant_id": project_id}


async def networks(
    session: AsyncSession, rows: Sequence[models.Network], caller: Caller
) -> list[dict[str, Any]]:
    ids = [r.id for r in rows]
    subnets: dict[str, list[str]] = defaultdict(list)
    scopes: dict[tuple[str, int], str] = {}
    shared_with_caller: set[str] = set()
    if ids:
        for net_id, sub_id, version, scope in await session.execute(
            select(models.Subnet.network_id, models.Subnet.id, models.Subnet.ip_version,
                   models.SubnetPool.address_scope_id)
            .outerjoin(models.SubnetPool, models.SubnetPool.id == models.Subnet.subnetpool_id)
            .where(models.Subnet.network_id.in_(ids))
            .order_by(models.Subnet.created_at)
        ):  # fmt: skip
            subnets[net_id].append(sub_id)
            if scope:
                # Neutron: the scope of the network's subnets (of their pools) per version.
                scopes[(net_id, version)] = scope
        shared_with_caller = set(
            (
                await session.scalars(
                    select(models.RBACPolicy.object_id).where(
                        models.RBACPolicy.object_id.in_(ids),
                        models.RBACPolicy.object_id.in_(rbac_shared_ids(caller.project_id)),
                        models.RBACPolicy.action == "access_as_shared",
                    )
                )
            ).all()
        )
    tags = await tags_of(session, ids)
    return [
        {
            "id": r.id,
            "name": r.name,
            **owner(r.project_id),
            "admin_state_up": r.admin_state_up,
            "mtu": r.mtu,
            "status": r.status,
            "subnets": subnets.get(r.id, []),
            "shared": r.shared or r.id in shared_with_caller,
            "availability_zone_hints": list(r.availability_zone_hints),
            "availability_zones": ["nova"],
            "ipv4_address_scope": scopes.get((r.id, 4)),
            "ipv6_address_scope": scopes.get((r.id, 6)),
            "router:external": r.external,
            # auto-allocated-topology: Neutron keeps is_default on the external network's
            # row, so only external networks show it (to whoever sees the network).
            **({"is_default": r.is_default} if r.external else {}),
            "port_security_enabled": r.port_security_enabled,
            "provider:network_type": r.network_type,
            "provider:physical_network": r.physical_network,
            "provider:segmentation_id": r.segmentation_id,
            "qos_policy_id": r.qos_policy_id,
            **standard(r, tags),
        }
        for r in rows
    ]


async def subnets(session: AsyncSession, rows: Sequence[models.Subnet]) -> list[dict[str, Any]]:
    tags = await tags_of(session, [r.id for r in rows])
    # subnet-external-network: each subnet says whether its network is external.
    net_ids = {r.network_id for r in rows}
    external = dict(
        (await session.execute(
            select(models.Network.id, models.Network.external).where(models.Network.id.in_(net_ids))
        )).tuples().all()
    ) if net_ids else {}  # fmt: skip
    return [
        {
            "id": r.id,
            "name": r.name,
            **owner(r.project_id),
            "network_id": r.network_id,
            "ip_version": r.ip_version,
            "cidr": r.cidr,
            "gateway_ip": r.gateway_ip,
            "enable_dhcp": r.enable_dhcp,
            "allocation_pools": list(r.allocation_pools),
            "dns_nameservers": list(r.dns_nameservers),
            "host_routes": list(r.host_routes),
            "ipv6_ra_mode": r.ipv6_ra_mode,
            "ipv6_address_mode": r.ipv6_address_mode,
            "subnetpool_id": r.subnetpool_id,
            "service_types": [],
            "router:external": bool(external.get(r.network_id, False)),
            **standard(r, tags),
        }
        for r in rows
    ]


def fixed_ips(port: models.Port) -> list[dict[str, str]]:
    return [{"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in port.fixed_ips]


def port_dict(
    r: Any,
    tags: dict[str, list[str]] | None,
    ips: list[dict[str, str]],
    groups: list[str],
) -> dict[str, Any]:
    """A port from its row (ORM object or plain row) and its addresses and groups."""
    return {
        "id": r.id,
        "name": r.name,
        **owner(r.project_id),
        "network_id": r.network_id,
        "mac_address": r.mac_address,
        "admin_state_up": r.admin_state_up,
        "status": r.status,
        "device_id": r.device_id,
        "device_owner": r.device_owner,
        "fixed_ips": ips,
        "allowed_address_pairs": [dict(p) for p in r.allowed_address_pairs],
        "extra_dhcp_opts": [dict(o) for o in r.extra_dhcp_opts or ()],
        "security_groups": groups,
        "port_security_enabled": r.port_security_enabled,
        "binding:host_id": r.binding_host_id,
        "binding:vif_type": r.binding_vif_type,
        "binding:vif_details": (
            {"port_filter": True, "connectivity": "l2", **(r.binding_vif_details or {})}
            if r.binding_vif_type == "bridge"
            else {}
        ),
        "binding:vnic_type": r.binding_vnic_type,
        "binding:profile": dict(r.binding_profile),
        "qos_policy_id": r.qos_policy_id,
        **standard(r, tags),
    }


def orm_port_dict(port: models.Port) -> dict[str, Any]:
    groups = sorted(b.security_group_id for b in port.security_group_bindings)
    return port_dict(port, None, fixed_ips(port), groups)


async def ports(session: AsyncSession, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Ports with their addresses and groups, loaded in bulk as plain rows (fast for 1,000s)."""
    ids = [r.id for r in rows]
    ips: dict[str, list[dict[str, str]]] = defaultdict(list)
    groups: dict[str, list[str]] = defaultdict(list)
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        alloc = models.IPAllocation
        for port_id, subnet_id, ip in await session.execute(
            select(alloc.port_id, alloc.subnet_id, alloc.ip_address)
            .where(alloc.port_id.in_(chunk))
            .order_by(alloc.port_id, alloc.position)
        ):
            ips[port_id].append({"subnet_id": subnet_id, "ip_address": ip})
        binding = models.PortSecurityGroup
        for port_id, group_id in await session.execute(
            select(binding.port_id, binding.security_group_id)
            .where(binding.port_id.in_(chunk))
            .order_by(binding.port_id, binding.security_group_id)
        ):
            groups[port_id].append(group_id)
    tags = await tags_of(session, ids)
    trunks = await trunk_details(session, ids)
    out = [port_dict(r, tags, ips.get(r.id, []), groups.get(r.id, [])) for r in rows]
    for item in out:
        if item["id"] in trunks:
            item["trunk_details"] = trunks[item["id"]]
    return out


def rule_dict(r: models.SecurityGroupRule) -> dict[str, Any]:
    return {
        "id": r.id,
        **owner(r.project_id),
        "security_group_id": r.security_group_id,
        "direction": r.direction,
        "ethertype": r.ethertype,
        "protocol": r.protocol,
        "port_range_min": r.port_range_min,
        "port_range_max": r.port_range_max,
        "remote_ip_prefix": r.remote_ip_prefix,
        "remote_group_id": r.remote_group_id,
        "normalized_cidr": normalized_cidr(r.remote_ip_prefix),
        **standard(r, None),
    }


async def security_groups(
    session: AsyncSession, rows: Sequence[models.SecurityGroup]
) -> list[dict[str, Any]]:
    tags = await tags_of(session, [r.id for r in rows])
    return [
        {
            "id": r.id,
            "name": r.name,
            **owner(r.project_id),
            "stateful": r.stateful,
            "security_group_rules": [rule_dict(x) for x in r.rules],
            **standard(r, tags),
        }
        for r in rows
    ]


async def routers(session: AsyncSession, rows: Sequence[models.Router]) -> list[dict[str, Any]]:
    gw_ids = [r.gw_port_id for r in rows if r.gw_port_id]
    gw_ports: dict[str, models.Port] = {}
    if gw_ids:
        gw_ports = {
            p.id: p
            for p in (await session.scalars(select(models.Port).where(models.Port.id.in_(gw_ids))))
        }
    tags = await tags_of(session, [r.id for r in rows])
    out = []
    for r in rows:
        gw = gw_ports.get(r.gw_port_id or "")
        info = None
        if gw is not None:
            info = {
                "network_id": gw.network_id,
                "enable_snat": r.enable_snat,
                "external_fixed_ips": fixed_ips(gw),
            }
        out.append(
            {
                "id": r.id,
                "name": r.name,
                **owner(r.project_id),
                "admin_state_up": r.admin_state_up,
                "status": r.status,
                "external_gateway_info": info,
                "routes": [dict(x) for x in r.routes],
                "availability_zone_hints": list(r.availability_zone_hints),
                "availability_zones": ["nova"],
                "ha": False,  # l3-ha; only admins see it (get_router:ha)
                **standard(r, tags),
            }
        )
    return out


async def floating_ips(
    session: AsyncSession, rows: Sequence[models.FloatingIP]
) -> list[dict[str, Any]]:
    ids = [r.id for r in rows]
    forwardings: dict[str, list[dict[str, Any]]] = defaultdict(list)
    ports_by_id: dict[str, models.Port] = {}
    if ids:
        for pf in await session.scalars(
            select(models.PortForwarding).where(models.PortForwarding.floatingip_id.in_(ids))
        ):
            forwardings[pf.floatingip_id].append(port_forwarding_dict(pf, embedded=True))
        port_ids = [r.port_id for r in rows if r.port_id]
        if port_ids:
            ports_by_id = {
                p.id: p
                for p in await session.scalars(
                    select(models.Port).where(models.Port.id.in_(port_ids))
                )
            }
    tags = await tags_of(session, ids)
    out = []
    for r in rows:
        port = ports_by_id.get(r.port_id or "")
        details = None
        if port is not None:
            details = {
                "name": port.name,
                "network_id": port.network_id,
                "mac_address": port.mac_address,
                "admin_state_up": port.admin_state_up,
                "status": port.status,
                "device_id": port.device_id,
                "device_owner": port.device_owner,
            }
        out.append(
            {
                "id": r.id,
                **owner(r.project_id),
                "floating_network_id": r.floating_network_id,
                "floating_ip_address": r.floating_ip_address,
                "fixed_ip_address": r.fixed_ip_address,
                "port_id": r.port_id,
                "router_id": r.router_id,
                "status": r.status,
                "port_details": details,
                "port_forwardings": forwardings.get(r.id, []),
                **standard(r, tags),
            }
        )
    return out


def port_forwarding_dict(r: models.PortForwarding, embedded: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.id,
        "internal_port_id": r.internal_port_id,
        "internal_ip_address": r.internal_ip_address,
        "internal_port": r.internal_port,
        "external_port": r.external_port,
        "protocol": r.protocol,
        "description": r.description,
    }
    if not embedded:
        out["internal_port_range"] = str(r.internal_port)
        out["external_port_range"] = str(r.external_port)
    return out


def rbac_dict(r: models.RBACPolicy) -> dict[str, Any]:
    return {
        "id": r.id,
        **owner(r.project_id),
        "object_type": r.object_type,
        "object_id": r.object_id,
        "action": r.action,
        "target_tenant": r.target_project,
    }


async def address_scopes(
    session: AsyncSession, rows: Sequence[models.AddressScope]
) -> list[dict[str, Any]]:
    tags = await tags_of(session, [r.id for r in rows])
    return [
        {
            "id": r.id,
            "name": r.name,
            **owner(r.project_id),
            "ip_version": r.ip_version,
            "shared": r.shared,
            **standard(r, tags),
        }
        for r in rows
    ]


async def subnet_pools(
    session: AsyncSession, rows: Sequence[models.SubnetPool]
) -> list[dict[str, Any]]:
    tags = await tags_of(session, [r.id for r in rows])
    return [
        {
            "id": r.id,
            "name": r.name,
            **owner(r.project_id),
            "ip_version": r.ip_version,
            "prefixes": list(r.prefixes),
            "default_prefixlen": r.default_prefixlen,
            "min_prefixlen": r.min_prefixlen,
            "max_prefixlen": r.max_prefixlen,
            "default_quota": r.default_quota,
            "address_scope_id": r.address_scope_id,
            "shared": r.shared,
            **standard(r, tags),
        }
        for r in rows
    ]


def metering_label_dict(r: models.MeteringLabel) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "description": r.description,
        "shared": r.shared,
        **owner(r.project_id),
    }


def metering_rule_dict(r: models.MeteringLabelRule) -> dict[str, Any]:
    return {
        "id": r.id,
        "metering_label_id": r.metering_label_id,
        "direction": r.direction,
        "excluded": r.excluded,
        "remote_ip_prefix": r.remote_ip_prefix,
        "source_ip_prefix": r.source_ip_prefix,
        "destination_ip_prefix": r.destination_ip_prefix,
    }


def agent_dict(r: models.Agent, alive: bool) -> dict[str, Any]:
    return {
        "id": r.id,
        "agent_type": r.agent_type,
        "binary": r.binary,
        "topic": r.topic,
        "host": r.host,
        "admin_state_up": r.admin_state_up,
        "alive": alive,
        "availability_zone": r.availability_zone,
        "configurations": dict(r.configurations),
        "description": r.description,
        "created_at": r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        "started_at": r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
        "heartbeat_timestamp": r.heartbeat_timestamp.strftime("%Y-%m-%d %H:%M:%S"),
        "resources_synced": None,
    }


async def subports_of(session: AsyncSession, trunk_ids: Sequence[str]) -> dict[str, list[Any]]:
    S, P = models.SubPort, models.Port
    found: dict[str, list[Any]] = defaultdict(list)
    if trunk_ids:
        rows = await session.execute(
            select(S.trunk_id, S.port_id, S.segmentation_type, S.segmentation_id, P.mac_address)
            .join(P, P.id == S.port_id)
            .where(S.trunk_id.in_(list(trunk_ids)))
            .order_by(S.trunk_id, S.segmentation_type, S.segmentation_id)
        )
        for trunk_id, port_id, kind, seg, mac in rows:
            found[trunk_id].append(
                {
                    "port_id": port_id,
                    "segmentation_type": kind,
                    "segmentation_id": seg,
                    "mac_address": mac,
                }
            )
    return found


async def trunk_details(session: AsyncSession, port_ids: Sequence[str]) -> dict[str, Any]:
    """The ``trunk_details`` of the parent ports among ``port_ids`` (Neutron's trunk-details)."""
    parents: dict[str, str] = {}
    for i in range(0, len(port_ids), 500):
        rows = await session.execute(
            select(models.Trunk.port_id, models.Trunk.id).where(
                models.Trunk.port_id.in_(list(port_ids[i : i + 500]))
            )
        )
        parents.update({port_id: trunk_id for port_id, trunk_id in rows})
    if not parents:
        return {}
    subs = await subports_of(session, list(parents.values()))
    return {
        port_id: {"trunk_id": trunk_id, "sub_ports": subs.get(trunk_id, [])}
        for port_id, trunk_id in parents.items()
    }
