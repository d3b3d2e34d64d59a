"""Ports: MACs, fixed IPs, security groups, address pairs, bindings and statuses."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.network import errors as nerr
from onestack.network import models
from onestack.network.service import ipalloc, qos
from onestack.network.service.base import (
    Caller,
    NetworkContext,
    check_quota,
    drop_tags,
    require_owner,
    touch,
)
from onestack.network.service.networks import get_visible_network
from onestack.network.service.secgroups import ensure_default_group, visible_group_ids


class PortInUseAsSubPort(errors.Conflict):
    template = "Port {port_id} is currently a subport for trunk {trunk_id}."


class PortInUseAsTrunkParent(errors.Conflict):
    template = "Port {port_id} is currently a parent port for trunk {trunk_id}."


class ServicePortInUse(errors.Conflict):
    template = "Port {port_id} cannot be deleted directly via the port API: {reason}."


class PortSecurityAndIPRequiredForSecurityGroups(errors.BadRequest):
    template = "Port security must be enabled and port must have an IP address in order to use security groups."  # noqa: E501


class AddressPairAndPortSecurityRequired(errors.Conflict):
    template = "Port Security must be enabled in order to have allowed address pairs on a port."


ROUTER_INTERFACE_OWNER = "network:router_interface"


async def trunk_member(session: AsyncSession, port_id: str) -> None:
    """409 for deleting a port a trunk uses, as its parent or a sub-port (Neutron's rule)."""
    trunk_id = await session.scalar(select(models.Trunk.id).where(models.Trunk.port_id == port_id))
    if trunk_id is not None:
        raise PortInUseAsTrunkParent(port_id=port_id, trunk_id=trunk_id)
    sub = await session.get(models.SubPort, port_id)
    if sub is not None:
        raise PortInUseAsSubPort(port_id=port_id, trunk_id=sub.trunk_id)


def is_network_owned(device_owner: str) -> bool:
    return device_owner.startswith("network:")


async def shared_with(session: AsyncSession, net: models.Network, project_id: str) -> bool:
    """Neutron's per-caller ``shared``: shared with everyone, or by an ``access_as_shared``
    RBAC policy (to this project or to ``*``)."""
    if net.shared:
        return True
    found = await session.scalar(
        select(models.RBACPolicy.id).where(
            models.RBACPolicy.object_type == "network",
            models.RBACPolicy.object_id == net.id,
            models.RBACPolicy.action == "access_as_shared",
            models.RBACPolicy.target_project.in_((project_id, "*")),
        )
    )
    return found is not None


async def check_router_device(
    session: AsyncSession, caller: Caller, device_owner: str, device_id: str, project_id: str
) -> None:
    """Neutron's ``_enforce_device_owner_not_router_intf_or_device_id``: a project may not
    declare its port an interface of another project's router (409)."""
    if caller.is_admin or device_owner != ROUTER_INTERFACE_OWNER or not device_id:
        return
    router = await session.get(models.Router, device_id)
    if router is not None and router.project_id != project_id:
        raise nerr.DeviceIDNotOwnedByTenant(device_id=device_id)


async def visible_port(session: AsyncSession, caller: Caller, port_id: str) -> models.Port:
    port = await session.get(models.Port, port_id)
    if port is None:
        raise nerr.PortNotFound(id=port_id)
    if caller.is_admin or port.project_id == caller.project_id:
        return port
    net = await session.get(models.Network, port.network_id)
    if net is not None and net.project_id == caller.project_id:
        return port  # the network's owner sees every port on it, as in Neutron
    raise nerr.PortNotFound(id=port_id)


def port_visible(caller: Caller) -> Any:
    if caller.is_admin:
        return None
    return or_(
        models.Port.project_id == caller.project_id,
        models.Port.network_id.in_(
            select(models.Network.id).where(models.Network.project_id == caller.project_id)
        ),
    )


def _address_pairs(raw: Any, mac: str) -> list[dict[str, str]]:
    pairs: list[dict[str, str]] = []
    for item in raw or []:
        if not isinstance(item, dict) or "ip_address" not in item:
            raise nerr.InvalidInput(reason="Allowed address pairs must have an ip_address")
        if not set(item) <= {"ip_address", "mac_address"}:
            raise nerr.InvalidInput(reason=f"Unrecognized attribute(s) in {item}")
        try:
            net = ipaddress.ip_network(str(item["ip_address"]), strict=False)
        except ValueError:
            raise nerr.InvalidInput(
                reason=f"'{item['ip_address']}' is not a valid IP address or CIDR"
            ) from None
        ip_text = str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)
        pair = {
            "ip_address": ip_text,
            "mac_address": ipalloc.normalize_mac(str(item.get("mac_address") or mac)),
        }
        if pair in pairs:
            raise nerr.InvalidInput(reason="Duplicate address pair found in request")
        pairs.append(pair)
    return pairs


def _dhcp_opts(raw: Any, current: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Neutron's extra_dhcp_opt: each option replaces the one of its name and IP version, one
    whose ``opt_value`` is null removes it; the others stay."""
    if raw is None:
        return list(current)
    opts = {(o["opt_name"], o["ip_version"]): dict(o) for o in current}
    for item in raw:
        if not isinstance(item, dict) or not item.get("opt_name"):
            raise nerr.InvalidInput(reason="An extra DHCP option needs an opt_name")
        if not set(item) <= {"opt_name", "opt_value", "ip_version"}:
            raise nerr.InvalidInput(reason=f"Unrecognized attribute(s) in {item}")
        name, value = str(item["opt_name"]), item.get("opt_value")
        version = item.get("ip_version", 4)
        if version in ("4", "6"):
            version = int(version)
        if version not in (4, 6):
            raise nerr.InvalidInput(reason=f"Invalid ip_version {version} of DHCP option {name}")
        if value is None:
            opts.pop((name, version), None)
            continue
        value = str(value)
        # One line of dnsmasq's options file each: no line breaks may reach it.
        if any(c in name + value for c in "\n\r\0") or "," in name:
            raise nerr.InvalidInput(reason=f"Invalid extra DHCP option {name}")
        opts[(name, version)] = {"opt_name": name, "opt_value": value, "ip_version": version}
    return list(opts.values())


class Ports:
    def __init__(self, ctx: NetworkContext) -> None:
        self.ctx = ctx

    async def policy_facts(
        self, caller: Caller, network_id: str, device_owner: str
    ) -> dict[str, Any]:
        """What Neutron's port rules match on besides the port: its network's owner
        (``network:tenant_id``), whether that network is shared, whether the port claims a
        network device. 404 for a network the caller cannot see."""
        async with self.ctx.db.session() as session:
            net = await get_visible_network(session, caller, network_id)
        return {
            "network:tenant_id": net.project_id,
            "network:project_id": net.project_id,
            "network:shared": bool(net.shared),
            "network_device": is_network_owned(device_owner),
        }

    async def create(self, caller: Caller, body: dict[str, Any]) -> models.Port:
        """A port asked for through the API (the router, DHCP and floating IP code paths call
        ``create_in`` for their own ports)."""
        async with self.ctx.db.session() as session:
            project_id = body.get("project_id") or caller.project_id
            if not caller.is_admin:
                net = await get_visible_network(session, caller, body["network_id"])
                # Neutron's _validate_network_tenant_ownership: seeing a network (an external
                # one, say) is not leave to plug into it; only its owner and the projects it is
                # shared with may, and the rest get a 404 that hides it.
                if net.project_id != project_id and not await shared_with(session, net, project_id):
                    raise nerr.HTTPNotFound()
            await check_router_device(
                session,
                caller,
                body.get("device_owner", ""),
                body.get("device_id", ""),
                project_id,
            )
            port = await self.create_in(session, caller, body)
        await self.ctx.changed(port.binding_host_id, created_ports=[port.id])
        return port

    async def create_in(
        self, session: AsyncSession, caller: Caller, body: dict[str, Any]
    ) -> models.Port:
        net = await get_visible_network(session, caller, body["network_id"])
        project_id = body.get("project_id") or caller.project_id
        await check_quota(session, project_id, "port")
        owner = body.get("device_owner", "")
        mac = body.get("mac_address")
        if mac is not None:
            mac = ipalloc.normalize_mac(mac)
            taken = await session.scalar(
                select(models.Port.id).where(
                    models.Port.network_id == net.id, models.Port.mac_address == mac
                )
            )
            if taken is not None:
                raise nerr.MacAddressInUse(net_id=net.id, mac=mac)
        else:
            mac = ipalloc.random_mac()
        port = models.Port(
            id=body.get("id") or models.uuid_str(),
            project_id=project_id,
            network_id=net.id,
            name=body.get("name", ""),
            description=body.get("description", ""),
            mac_address=mac,
            admin_state_up=body.get("admin_state_up", True),
            device_owner=owner,
            device_id=body.get("device_id", ""),
            binding_host_id=body.get("binding_host_id", ""),
            binding_vnic_type=body.get("binding_vnic_type", "normal"),
            binding_profile=body.get("binding_profile") or {},
            port_security_enabled=body.get("port_security_enabled", net.port_security_enabled),
            qos_policy_id=body.get("qos_policy_id"),
            fixed_ips=[],
            security_group_bindings=[],
        )
        await qos.check_attachable(session, caller, body.get("qos_policy_id"))
        pairs = await ipalloc.resolve_fixed_ips(session, net.id, body.get("fixed_ips"), mac, owner)
        session.add(port)
        ipalloc.set_allocations(port, pairs)
        groups = body.get("security_groups")
        if groups is None:
            groups = []
            if port.port_security_enabled and not is_network_owned(owner):
                groups = [await ensure_default_group(session, project_id)]
        await self._set_groups(session, caller, port, groups)
        port.allowed_address_pairs = _address_pairs(body.get("allowed_address_pairs"), mac)
        if port.allowed_address_pairs and not port.port_security_enabled:
            raise AddressPairAndPortSecurityRequired()
        port.extra_dhcp_opts = _dhcp_opts(body.get("extra_dhcp_opts"), [])
        for tag in body.get("tags") or ():
            session.add(models.Tag(resource_id=port.id, tag=tag, resource_type="ports"))
        await session.flush()
        return port

    async def _set_groups(
        self, session: AsyncSession, caller: Caller, port: models.Port, groups: list[str]
    ) -> None:
        groups = list(dict.fromkeys(groups))
        if groups and not port.port_security_enabled:
            raise PortSecurityAndIPRequiredForSecurityGroups()
        if groups:
            found = await visible_group_ids(session, caller, groups, port.project_id)
            missing = [g for g in groups if g not in found]
            if missing:
                raise nerr.SecurityGroupNotFound(id=missing[0])
        port.security_group_bindings = [
            models.PortSecurityGroup(port_id=port.id, security_group_id=g) for g in groups
        ]

    async def update(self, caller: Caller, port_id: str, changes: dict[str, Any]) -> models.Port:
        async with self.ctx.db.session() as session:
            port = await visible_port(session, caller, port_id)
            old_host = port.binding_host_id
            if "device_owner" in changes or "device_id" in changes:
                await check_router_device(
                    session,
                    caller,
                    changes.get("device_owner", port.device_owner),
                    changes.get("device_id", port.device_id),
                    port.project_id,
                )
            if changes.get("qos_policy_id") not in (None, port.qos_policy_id):
                await qos.check_attachable(session, caller, changes["qos_policy_id"])
            await self.update_in(session, caller, port, changes)
        await self.ctx.changed(port.binding_host_id if old_host == port.binding_host_id else "")
        return port

    async def update_in(
        self, session: AsyncSession, caller: Caller, port: models.Port, changes: dict[str, Any]
    ) -> None:
        changed = False
        if "network_id" in changes and changes.pop("network_id") != port.network_id:
            raise nerr.InvalidInput(reason="Cannot update read-only attribute network_id")
        if "mac_address" in changes:
            mac = ipalloc.normalize_mac(changes.pop("mac_address"))
            if mac != port.mac_address:
                if (
                    port.binding_vif_type not in ("unbound", "binding_failed")
                    and port.binding_host_id
                ):
                    raise nerr.Conflict(reason=f"Port {port.id} is bound; its MAC cannot change")
                taken = await session.scalar(
                    select(models.Port.id).where(
                        models.Port.network_id == port.network_id, models.Port.mac_address == mac
                    )
                )
                if taken is not None:
                    raise nerr.MacAddressInUse(net_id=port.network_id, mac=mac)
                port.mac_address = mac
                changed = True
        if "fixed_ips" in changes:
            pairs = await ipalloc.resolve_fixed_ips(
                session,
                port.network_id,
                changes.pop("fixed_ips") or [],
                port.mac_address,
                port.device_owner,
                exclude_port=port.id,
            )
            if pairs != [(a.subnet_id, a.ip_address) for a in port.fixed_ips]:
                ipalloc.set_allocations(port, pairs)
                changed = True
        if "port_security_enabled" in changes:
            enabled = changes.pop("port_security_enabled")
            if enabled != port.port_security_enabled:
                port.port_security_enabled = enabled
                changed = True
                if (
                    not enabled
                    and "security_groups" not in changes
                    and port.security_group_bindings
                ):
                    raise nerr.Conflict(
                        reason="Port has security group associated. Cannot disable port "
                        "security or ip address until security group is removed"
                    )
        if "security_groups" in changes:
            groups = changes.pop("security_groups") or []
            current = sorted(b.security_group_id for b in port.security_group_bindings)
            if sorted(groups) != current:
                await self._set_groups(session, caller, port, groups)
                changed = True
        if "allowed_address_pairs" in changes:
            pairs2 = _address_pairs(changes.pop("allowed_address_pairs"), port.mac_address)
            if pairs2 != port.allowed_address_pairs:
                port.allowed_address_pairs = pairs2
                changed = True
        if port.allowed_address_pairs and not port.port_security_enabled:
            raise AddressPairAndPortSecurityRequired()
        if "extra_dhcp_opts" in changes:
            opts = _dhcp_opts(changes.pop("extra_dhcp_opts"), port.extra_dhcp_opts or [])
            if opts != port.extra_dhcp_opts:
                port.extra_dhcp_opts = opts
                changed = True
        if "binding_host_id" in changes and changes["binding_host_id"] != port.binding_host_id:
            port.binding_vif_type = "unbound"
            if port.binding_host_id and port.status == "ACTIVE":
                port.status = "DOWN"
        for key, value in changes.items():
            if key == "tags":
                continue
            if getattr(port, key) != value:
                setattr(port, key, value)
                changed = True
        if changed:
            touch(port)
        await session.flush()

    async def delete(self, caller: Caller, port_id: str, internal: bool = False) -> None:
        async with self.ctx.db.session() as session:
            port = await visible_port(session, caller, port_id)
            require_owner(caller, port.project_id, "delete_port")
            host = port.binding_host_id
            if not internal and port.device_owner in (
                "network:router_interface",
                "network:router_gateway",
                "network:floatingip",
            ):
                raise ServicePortInUse(
                    port_id=port.id, reason=f"has device owner {port.device_owner}"
                )
            await trunk_member(session, port.id)
            await self.delete_in(session, port)
        await self.ctx.changed(host)

    @staticmethod
    async def delete_in(session: AsyncSession, port: models.Port) -> None:
        await session.execute(
            update(models.FloatingIP)
            .where(models.FloatingIP.port_id == port.id)
            .values(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
        )
        await drop_tags(session, port.id)
        await session.delete(port)
