"""Subnet pools and the address scopes that group them."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.network import errors as nerr
from onestack.network import models
from onestack.network.service.base import (
    Caller,
    NetworkContext,
    apply,
    check_quota,
    drop_tags,
    require_owner,
)


async def _only_default(session: AsyncSession, ip_version: int, pool_id: str | None) -> None:
    """One default subnet pool per IP family (Neutron's default-subnetpools)."""
    other = await session.scalar(
        select(models.SubnetPool.id).where(
            models.SubnetPool.is_default.is_(True),
            models.SubnetPool.ip_version == ip_version,
            models.SubnetPool.id != (pool_id or ""),
        )
    )
    if other is not None:
        raise nerr.BadRequest(
            resource="subnetpools",
            msg=f"Invalid input for is_default. Reason: A default subnetpool for this IP "
            f"family has already been set: {other}",
        )


async def default_subnetpool(session: AsyncSession, ip_version: int) -> str | None:
    return await session.scalar(
        select(models.SubnetPool.id).where(
            models.SubnetPool.is_default.is_(True), models.SubnetPool.ip_version == ip_version
        )
    )


class AddressScopes:
    def __init__(self, ctx: NetworkContext) -> None:
        self.ctx = ctx

    async def visible(
        self, session: AsyncSession, caller: Caller, scope_id: str
    ) -> models.AddressScope:
        row = await session.get(models.AddressScope, scope_id)
        if row is None or not (
            caller.is_admin or row.shared or row.project_id == caller.project_id
        ):
            raise nerr.AddressScopeNotFound(id=scope_id)
        return row

    async def create(self, caller: Caller, body: dict[str, Any]) -> models.AddressScope:
        if body.get("ip_version") not in (4, 6):
            raise nerr.InvalidInput(reason="ip_version must be 4 or 6")
        async with self.ctx.db.session() as session:
            row = models.AddressScope(
                id=models.uuid_str(),
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
    ) -> models.AddressScope:
        async with self.ctx.db.session() as session:
            row = await self.visible(session, caller, scope_id)
            require_owner(caller, row.project_id, "update_address_scope")
            apply(row, changes)
        return row

    async def delete(self, caller: Caller, scope_id: str) -> None:
        async with self.ctx.db.session() as session:
            row = await self.visible(session, caller, scope_id)
            require_owner(caller, row.project_id, "delete_address_scope")
            used = await session.scalar(
                select(models.SubnetPool.id)
                .where(models.SubnetPool.address_scope_id == row.id)
                .limit(1)
            )
            if used is not None:
                raise nerr.InUse(
                    reason=f"Unable to complete operation on address scope {row.id}. There are "
                    "one or more subnet pools in use on the address scope"
                )
            await drop_tags(session, row.id)
            await session.delete(row)


class SubnetPools:
    def __init__(self, ctx: NetworkContext, scopes: AddressScopes) -> None:
        self.ctx = ctx
        self.scopes = scopes

    async def visible(
        self, session: AsyncSession, caller: Caller, pool_id: str
    ) -> models.SubnetPool:
        row = await session.get(models.SubnetPool, pool_id)
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

    async def create(self, caller: Caller, body: dict[str, Any]) -> models.SubnetPool:
        async with self.ctx.db.session() as session:
            project_id = body.get("project_id") or caller.project_id
            await check_quota(session, project_id, "subnetpool")
            checked = await self._check(session, caller, body)
            if body.get("is_default"):
                await _only_default(session, checked["ip_version"], None)
            row = models.SubnetPool(
                id=models.uuid_str(),
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
                session.add(models.Tag(resource_id=row.id, tag=tag, resource_type="subnetpools"))
        return row

    async def update(
        self, caller: Caller, pool_id: str, changes: dict[str, Any]
    ) -> models.SubnetPool:
        async with self.ctx.db.session() as session:
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
            if changes.get("is_default") and not row.is_default:
                await _only_default(session, changes.get("ip_version", row.ip_version), row.id)
            apply(row, changes)
        return row

    async def delete(self, caller: Caller, pool_id: str) -> None:
        async with self.ctx.db.session() as session:
            row = await self.visible(session, caller, pool_id)
            require_owner(caller, row.project_id, "delete_subnetpool")
            used = await session.scalar(
                select(models.Subnet.id).where(models.Subnet.subnetpool_id == row.id).limit(1)
            )
            if used is not None:
                raise nerr.InUse(
                    reason=f"Unable to complete operation on subnetpool {row.id}. "
                    "There are one or more subnets in use on the subnetpool"
                )
            await drop_tags(session, row.id)
            await session.delete(row)
