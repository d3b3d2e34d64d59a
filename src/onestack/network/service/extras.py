"""The smaller resources: RBAC policies, address scopes, subnet pools, quotas, agents, tags."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common.db import utcnow
from onestack.network import errors as nerr
from onestack.network import models as m
from onestack.network.service.base import (
    DEFAULT_QUOTAS,
    Caller,
    Store,
    apply,
    check_quota,
    drop_tags,
    quota_limits,
    require_owner,
    touch,
    usage,
)
from onestack.network.service.networks import get_visible_network

AGENT_DOWN_TIME = timedelta(seconds=75)  # Neutron's agent_down_time


class RBAC:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def create(self, caller: Caller, body: dict[str, Any]) -> m.RBACPolicy:
        if body.get("object_type") != "network":
            raise nerr.InvalidInput(reason=f"'{body.get('object_type')}' is not in ['network']")
        action = body.get("action")
        if action not in ("access_as_shared", "access_as_external"):
            raise nerr.InvalidInput(
                reason=f"'{action}' is not in ['access_as_external', 'access_as_shared']"
            )
        target = body.get("target_tenant")
        if not target:
            raise nerr.InvalidInput(reason="target_tenant is required")
        async with self.store.db.session() as session:
            net = await get_visible_network(session, caller, str(body.get("object_id")))
            if not caller.is_admin and net.project_id != caller.project_id:
                raise nerr.NetworkNotFound(id=net.id)
            project_id = body.get("project_id") or caller.project_id
            await check_quota(session, project_id, "rbac_policy")
            dup = await session.scalar(
                select(m.RBACPolicy.id).where(
                    m.RBACPolicy.object_id == net.id,
                    m.RBACPolicy.action == action,
                    m.RBACPolicy.target_project == target,
                )
            )
            if dup is not None:
                raise nerr.DuplicateRbacPolicy()
            row = m.RBACPolicy(
                id=m.uuid_str(),
                project_id=project_id,
                object_type="network",
                object_id=net.id,
                action=action,
                target_project=target,
            )
            session.add(row)
            if target == "*" and action == "access_as_shared":
                net.shared = True
                touch(net)
        await self.store.changed()
        return row

    async def visible(self, session: AsyncSession, caller: Caller, policy_id: str) -> m.RBACPolicy:
        row = await session.get(m.RBACPolicy, policy_id)
        if row is None or not (
            caller.is_admin
            or row.project_id == caller.project_id
            or row.target_project == caller.project_id
        ):
            raise nerr.RbacPolicyNotFound(type="network", id=policy_id)
        return row

    async def update(self, caller: Caller, policy_id: str, changes: dict[str, Any]) -> m.RBACPolicy:
        async with self.store.db.session() as session:
            row = await self.visible(session, caller, policy_id)
            require_owner(caller, row.project_id, "update_rbac_policy")
            if "target_tenant" in changes and changes["target_tenant"] != row.target_project:
                await self._check_unused(session, row)
                row.target_project = changes["target_tenant"]
        return row

    async def _check_unused(self, session: AsyncSession, row: m.RBACPolicy) -> None:
        """Removing access is refused while the target project has ports on the network."""
        net = await session.get(m.Network, row.object_id)
        if net is None:
            return
        stmt = (
            select(func.count())
            .select_from(m.Port)
            .where(
                m.Port.network_id == net.id,
                m.Port.project_id != net.project_id,
                m.Port.project_id != "",
                m.Port.device_owner != "network:dhcp",
            )
        )
        if row.target_project != "*":
            stmt = stmt.where(m.Port.project_id == row.target_project)
        if await session.scalar(stmt):
            raise nerr.RbacPolicyInUse(object_id=row.object_id)

    async def delete(self, caller: Caller, policy_id: str) -> None:
        async with self.store.db.session() as session:
            row = await self.visible(session, caller, policy_id)
            require_owner(caller, row.project_id, "delete_rbac_policy")
            await self._check_unused(session, row)
            if row.target_project == "*" and row.action == "access_as_shared":
                net = await session.get(m.Network, row.object_id)
                if net is not None:
                    net.shared = False
                    touch(net)
            await session.delete(row)
        await self.store.changed()


class AddressScopes:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def visible(self, session: AsyncSession, caller: Caller, scope_id: str) -> m.AddressScope:
        row = await session.get(m.AddressScope, scope_id)
        if row is None or not (
            caller.is_admin or row.shared or row.project_id == caller.project_id
        ):
            raise nerr.AddressScopeNotFound(id=scope_id)
        return row

    async def create(self, caller: Caller, body: dict[str, Any]) -> m.AddressScope:
        if body.get("ip_version") not in (4, 6):
            raise nerr.InvalidInput(reason="ip_version must be 4 or 6")
        async with self.store.db.session() as session:
            row = m.AddressScope(
                id=m.uuid_str(),
                project_id=body.get("project_id") or caller.project_id,
                name=body.get("name", ""),
                description=body.get("description", ""),
                ip_version=body["ip_version"],
                shared=body.get("shared", False),
            )
            session.add(row)
        return row

    async def update(
        self, caller: Caller, scope_id: str, changes: dict[str, Any]
    ) -> m.AddressScope:
        async with self.store.db.session() as session:
            row = await self.visible(session, caller, scope_id)
            require_owner(caller, row.project_id, "update_address_scope")
            apply(row, changes)
        return row

    async def delete(self, caller: Caller, scope_id: str) -> None:
        async with self.store.db.session() as session:
            row = await self.visible(session, caller, scope_id)
            require_owner(caller, row.project_id, "delete_address_scope")
            used = await session.scalar(
                select(m.SubnetPool.id).where(m.SubnetPool.address_scope_id == row.id).limit(1)
            )
            if used is not None:
                raise nerr.InUse(
                    reason=f"Unable to complete operation on address scope {row.id}. There are "
                    "one or more subnet pools in use on the address scope"
                )
            await drop_tags(session, row.id)
            await session.delete(row)


class SubnetPools:
    def __init__(self, store: Store, scopes: AddressScopes) -> None:
        self.store = store
        self.scopes = scopes

    async def visible(self, session: AsyncSession, caller: Caller, pool_id: str) -> m.SubnetPool:
        row = await session.get(m.SubnetPool, pool_id)
        if row is None or not (
            caller.is_admin or row.shared or row.project_id == caller.project_id
        ):
            raise nerr.SubnetPoolNotFound(id=pool_id)
        return row

    async def _check(
        self, session: AsyncSession, caller: Caller, values: dict[str, Any]
    ) -> dict[str, Any]:
        prefixes = values.get("prefixes") or []
        if not prefixes:
            raise nerr.InvalidInput(reason="A subnet pool needs at least one prefix")
        nets = []
        for p in prefixes:
            try:
                nets.append(ipaddress.ip_network(str(p), strict=False))
            except ValueError:
                raise nerr.InvalidInput(reason=f"'{p}' is not a valid IP subnet") from None
        versions = {n.version for n in nets}
        if len(versions) != 1:
            raise nerr.InvalidInput(reason="Cannot mix IPv4 and IPv6 prefixes in a subnet pool.")
        version = versions.pop()
        collapsed = [str(n) for n in ipaddress.collapse_addresses(nets)]  # type: ignore[type-var]
        max_len = 32 if version == 4 else 128
        min_len = values.get("min_prefixlen")
        min_len = int(min_len) if min_len is not None else (8 if version == 4 else 64)
        max_pl = values.get("max_prefixlen")
        max_pl = int(max_pl) if max_pl is not None else max_len
        default = values.get("default_prefixlen")
        default = int(default) if default is not None else min_len
        if not (0 <= min_len <= default <= max_pl <= max_len):
            raise nerr.InvalidInput(
                reason=f"Illegal prefix bounds: min_prefixlen={min_len}, "
                f"default_prefixlen={default}, max_prefixlen={max_pl}"
            )
        scope_id = values.get("address_scope_id")
        if scope_id:
            scope = await self.scopes.visible(session, caller, scope_id)
            if scope.ip_version != version:
                raise nerr.InvalidInput(
                    reason=f"Illegal subnetpool association: subnetpool cannot be associated "
                    f"with address scope {scope_id} because subnetpool ip_version is not "
                    f"{scope.ip_version}"
                )
        return {
            "prefixes": collapsed,
            "ip_version": version,
            "min_prefixlen": min_len,
            "max_prefixlen": max_pl,
            "default_prefixlen": default,
            "address_scope_id": scope_id or None,
        }

    async def create(self, caller: Caller, body: dict[str, Any]) -> m.SubnetPool:
        async with self.store.db.session() as session:
            project_id = body.get("project_id") or caller.project_id
            await check_quota(session, project_id, "subnetpool")
            checked = await self._check(session, caller, body)
            row = m.SubnetPool(
                id=m.uuid_str(),
                project_id=project_id,
                name=body.get("name", ""),
                description=body.get("description", ""),
                shared=body.get("shared", False),
                is_default=body.get("is_default", False),
                default_quota=body.get("default_quota"),
                **checked,
            )
            session.add(row)
            for tag in body.get("tags") or ():
                session.add(m.Tag(resource_id=row.id, tag=tag, resource_type="subnetpools"))
        return row

    async def update(self, caller: Caller, pool_id: str, changes: dict[str, Any]) -> m.SubnetPool:
        async with self.store.db.session() as session:
            row = await self.visible(session, caller, pool_id)
            require_owner(caller, row.project_id, "update_subnetpool")
            if any(
                k in changes
                for k in ("prefixes", "min_prefixlen", "max_prefixlen", "default_prefixlen",
                          "address_scope_id")
            ):  # fmt: skip
                merged = {
                    "prefixes": changes.get("prefixes", row.prefixes),
                    "min_prefixlen": changes.get("min_prefixlen", row.min_prefixlen),
                    "max_prefixlen": changes.get("max_prefixlen", row.max_prefixlen),
                    "default_prefixlen": changes.get("default_prefixlen", row.default_prefixlen),
                    "address_scope_id": changes.get("address_scope_id", row.address_scope_id),
                }
                checked = await self._check(session, caller, merged)
                old = [ipaddress.ip_network(p) for p in row.prefixes]
                new = [ipaddress.ip_network(p) for p in checked["prefixes"]]
                if not all(any(o.subnet_of(n) for n in new) for o in old):  # type: ignore[arg-type]
                    raise nerr.InvalidInput(
                        reason="Existing prefixes must be a subset of the new prefixes"
                    )
                changes.update(checked)
            apply(row, changes)
        return row

    async def delete(self, caller: Caller, pool_id: str) -> None:
        async with self.store.db.session() as session:
            row = await self.visible(session, caller, pool_id)
            require_owner(caller, row.project_id, "delete_subnetpool")
            used = await session.scalar(
                select(m.Subnet.id).where(m.Subnet.subnetpool_id == row.id).limit(1)
            )
            if used is not None:
                raise nerr.InUse(
                    reason=f"Unable to complete operation on subnetpool {row.id}. "
                    "There are one or more subnets in use on the subnetpool"
                )
            await drop_tags(session, row.id)
            await session.delete(row)


class Quotas:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, project_id: str) -> dict[str, int]:
        async with self.store.db.session() as session:
            return await quota_limits(session, project_id)

    async def details(self, project_id: str) -> dict[str, dict[str, int]]:
        async with self.store.db.session() as session:
            limits = await quota_limits(session, project_id)
            return {
                name: {
                    "limit": limit,
                    "used": await usage(session, project_id, name),
                    "reserved": 0,
                }
                for name, limit in limits.items()
            }

    async def list_projects(self) -> list[tuple[str, dict[str, int]]]:
        async with self.store.db.session() as session:
            projects = (await session.scalars(select(m.Quota.project_id).distinct())).all()
            return [(p, await quota_limits(session, p)) for p in sorted(projects)]

    async def update(self, project_id: str, changes: dict[str, Any]) -> dict[str, int]:
        for name, value in changes.items():
            if name not in DEFAULT_QUOTAS:
                raise nerr.InvalidInput(reason=f"Unrecognized attribute(s) '{name}'")
            if not isinstance(value, int) or isinstance(value, bool) or value < -1:
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    raise nerr.InvalidInput(reason=f"'{value}' is not an integer") from None
                if value < -1:
                    raise nerr.InvalidInput(
                        reason=f"'{value}' should be greater than or equal to -1"
                    )
                changes[name] = value
        async with self.store.db.session() as session:
            for name, value in changes.items():
                row = await session.get(m.Quota, (project_id, name))
                if row is None:
                    session.add(m.Quota(project_id=project_id, resource=name, limit=value))
                else:
                    row.limit = value
            await session.flush()
            return await quota_limits(session, project_id)

    async def reset(self, project_id: str) -> None:
        async with self.store.db.session() as session:
            await session.execute(delete(m.Quota).where(m.Quota.project_id == project_id))


class Agents:
    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def alive(row: m.Agent) -> bool:
        return utcnow() - row.heartbeat_timestamp < AGENT_DOWN_TIME

    async def report(
        self, host: str, agent_type: str, binary: str, configurations: dict[str, Any]
    ) -> m.Agent:
        """An agent's heartbeat: create its row on first report, refresh it afterwards."""

        async def attempt() -> m.Agent:
            async with self.store.db.session() as session:
                row = await session.scalar(
                    select(m.Agent).where(m.Agent.agent_type == agent_type, m.Agent.host == host)
                )
                now = utcnow()
                if row is None:
                    row = m.Agent(
                        id=m.uuid_str(),
                        agent_type=agent_type,
                        binary=binary,
                        host=host,
                        topic="N/A",
                        configurations=configurations,
                        availability_zone="nova"
                        if agent_type in ("DHCP agent", "L3 agent")
                        else None,
                        created_at=now,
                        started_at=now,
                        heartbeat_timestamp=now,
                    )
                    session.add(row)
                else:
                    if not self.alive(row):
                        row.started_at = now
                    row.heartbeat_timestamp = now
                    row.binary = binary
                    row.configurations = configurations
                return row

        from onestack.network.service.base import retrying

        return await retrying(attempt)

    async def get(self, agent_id: str) -> m.Agent:
        async with self.store.db.session() as session:
            row = await session.get(m.Agent, agent_id)
            if row is None:
                raise nerr.AgentNotFound(id=agent_id)
            return row

    async def update(self, agent_id: str, changes: dict[str, Any]) -> m.Agent:
        async with self.store.db.session() as session:
            row = await session.get(m.Agent, agent_id)
            if row is None:
                raise nerr.AgentNotFound(id=agent_id)
            for key, value in changes.items():
                setattr(row, key, value)
            return row

    async def delete(self, agent_id: str) -> None:
        async with self.store.db.session() as session:
            row = await session.get(m.Agent, agent_id)
            if row is None:
                raise nerr.AgentNotFound(id=agent_id)
            await session.delete(row)


TAGGABLE = {
    "networks": m.Network,
    "subnets": m.Subnet,
    "ports": m.Port,
    "routers": m.Router,
    "floatingips": m.FloatingIP,
    "security-groups": m.SecurityGroup,
    "subnetpools": m.SubnetPool,
    "address-scopes": m.AddressScope,
}


def validate_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not tag or len(tag) > 255 or "," in tag or "/" in tag:
        raise nerr.InvalidInput(reason=f"'{tag}' is not a valid tag")
    return tag


class Tags:
    """Tags on any taggable resource; the caller's right to the resource is checked first."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def of(self, session: AsyncSession, resource_id: str) -> list[str]:
        rows = await session.scalars(
            select(m.Tag.tag).where(m.Tag.resource_id == resource_id).order_by(m.Tag.tag)
        )
        return list(rows.all())

    async def replace(self, collection: str, resource_id: str, tags: list[str]) -> list[str]:
        wanted = sorted({validate_tag(t) for t in tags})
        async with self.store.db.session() as session:
            await session.execute(delete(m.Tag).where(m.Tag.resource_id == resource_id))
            for tag in wanted:
                session.add(m.Tag(resource_id=resource_id, tag=tag, resource_type=collection))
            await self._touch(session, collection, resource_id)
        return wanted

    async def add(self, collection: str, resource_id: str, tag: str) -> None:
        validate_tag(tag)
        async with self.store.db.session() as session:
            if await session.get(m.Tag, (resource_id, tag)) is None:
                session.add(m.Tag(resource_id=resource_id, tag=tag, resource_type=collection))
                await self._touch(session, collection, resource_id)

    async def has(self, resource_id: str, tag: str) -> bool:
        async with self.store.db.session() as session:
            return await session.get(m.Tag, (resource_id, tag)) is not None

    async def remove(self, collection: str, resource_id: str, tag: str) -> None:
        async with self.store.db.session() as session:
            row = await session.get(m.Tag, (resource_id, tag))
            if row is None:
                raise nerr.TagNotFound(tag=tag)
            await session.delete(row)
            await self._touch(session, collection, resource_id)

    async def clear(self, collection: str, resource_id: str) -> None:
        async with self.store.db.session() as session:
            await session.execute(delete(m.Tag).where(m.Tag.resource_id == resource_id))
            await self._touch(session, collection, resource_id)

    @staticmethod
    async def _touch(session: AsyncSession, collection: str, resource_id: str) -> None:
        row = await session.get(TAGGABLE[collection], resource_id)
        if row is not None:
            touch(row)
