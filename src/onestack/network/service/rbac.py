"""RBAC policies: sharing a network with projects, or offering it as external to them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.network import errors as nerr
from onestack.network import models
from onestack.network.service.base import (
    Caller,
    NetworkContext,
    check_quota,
    require_owner,
    touch,
)
from onestack.network.service.networks import get_visible_network


class RBAC:
    def __init__(self, ctx: NetworkContext) -> None:
        self.ctx = ctx

    async def create(self, caller: Caller, body: dict[str, Any]) -> models.RBACPolicy:
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
        async with self.ctx.db.session() as session:
            net = await get_visible_network(session, caller, str(body.get("object_id")))
            if not caller.is_admin and net.project_id != caller.project_id:
                raise nerr.NetworkNotFound(id=net.id)
            project_id = body.get("project_id") or caller.project_id
            await check_quota(session, project_id, "rbac_policy")
            dup = await session.scalar(
                select(models.RBACPolicy.id).where(
                    models.RBACPolicy.object_id == net.id,
                    models.RBACPolicy.action == action,
                    models.RBACPolicy.target_project == target,
                )
            )
            if dup is not None:
                raise nerr.DuplicateRbacPolicy()
            row = models.RBACPolicy(
                id=models.uuid_str(),
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
        await self.ctx.changed()
        return row

    async def visible(
        self, session: AsyncSession, caller: Caller, policy_id: str
    ) -> models.RBACPolicy:
        row = await session.get(models.RBACPolicy, policy_id)
        if row is None or not (
            caller.is_admin
            or row.project_id == caller.project_id
            or row.target_project == caller.project_id
        ):
            raise nerr.RbacPolicyNotFound(type="network", id=policy_id)
        return row

    async def update(
        self, caller: Caller, policy_id: str, changes: dict[str, Any]
    ) -> models.RBACPolicy:
        async with self.ctx.db.session() as session:
            row = await self.visible(session, caller, policy_id)
            require_owner(caller, row.project_id, "update_rbac_policy")
            if "target_tenant" in changes and changes["target_tenant"] != row.target_project:
                await self._check_unused(session, row)
                row.target_project = changes["target_tenant"]
        return row

    async def _check_unused(self, session: AsyncSession, row: models.RBACPolicy) -> None:
        """Removing access is refused while the target project has ports on the network."""
        net = await session.get(models.Network, row.object_id)
        if net is None:
            return
        stmt = (
            select(func.count())
            .select_from(models.Port)
            .where(
                models.Port.network_id == net.id,
                models.Port.project_id != net.project_id,
                models.Port.project_id != "",
                models.Port.device_owner != "network:dhcp",
            )
        )
        if row.target_project != "*":
            stmt = stmt.where(models.Port.project_id == row.target_project)
        if await session.scalar(stmt):
            raise nerr.RbacPolicyInUse(object_id=row.object_id)

    async def delete(self, caller: Caller, policy_id: str) -> None:
        async with self.ctx.db.session() as session:
            row = await self.visible(session, caller, policy_id)
            require_owner(caller, row.project_id, "delete_rbac_policy")
            await self._check_unused(session, row)
            if row.target_project == "*" and row.action == "access_as_shared":
                net = await session.get(models.Network, row.object_id)
                if net is not None:
                    net.shared = False
                    touch(net)
            await session.delete(row)
        await self.ctx.changed()
