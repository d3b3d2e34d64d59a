"""What every part of the network service layer shares: the context, the caller, tags,
revisions, visibility and the ``network.changed`` event."""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.bus import Bus
from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.common.quota import lock_quota
from onestack.config import NetworkSettings
from onestack.network import errors as nerr
from onestack.network import models

T = TypeVar("T")

CHANGED = "network.changed"


@dataclass(frozen=True)
class Caller:
    """Who asks: a project, and whether admin (admins see and may change every project)."""

    project_id: str
    is_admin: bool = False

    @classmethod
    def of(cls, ctx: RequestContext) -> Caller:
        return cls(project_id=ctx.project_id or "", is_admin=ctx.is_admin)


ADMIN = Caller(project_id="", is_admin=True)


@dataclass
class NetworkContext:
    """What the parts of the network service share: the database, the bus, its settings and
    this host's name."""

    db: Database
    bus: Bus
    settings: NetworkSettings
    host: str

    async def changed(self, host: str = "", *, created_ports: Sequence[str] = ()) -> None:
        """Tell the agents to re-apply (``host`` empty: every host). ``created_ports``: the
        change is only those new ports, which an agent may add to the state it holds
        (``NetworkAgent``'s incremental round) instead of reading its host again."""
        payload: dict[str, Any] = {"host": host}
        if created_ports:
            payload["created_ports"] = list(created_ports)
        await self.bus.publish(CHANGED, "network.changed", payload)


def require_owner(caller: Caller, project_id: str, action: str) -> None:
    """403 for ``action`` unless the caller is an admin or of the resource's project."""
    if not caller.is_admin and project_id != caller.project_id:
        raise errors.Forbidden(action=action)


def touch(row: Any) -> None:
    """An update: a new revision and timestamp, as Neutron's standard attributes do."""
    row.revision_number = (row.revision_number or 0) + 1
    row.updated_at = utcnow()


def apply(row: Any, changes: dict[str, Any]) -> bool:
    """Set changed attributes; bump the revision if anything changed."""
    changed = False
    for key, value in changes.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    if changed:
        touch(row)
    return changed


async def tags_of(session: AsyncSession, ids: Iterable[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    wanted = list(ids)
    for i in range(0, len(wanted), 500):
        rows = await session.execute(
            select(models.Tag.resource_id, models.Tag.tag)
            .where(models.Tag.resource_id.in_(wanted[i : i + 500]))
            .order_by(models.Tag.tag)
        )
        for rid, tag in rows:
            out[rid].append(tag)
    return out


async def drop_tags(session: AsyncSession, resource_id: str) -> None:
    await session.execute(delete(models.Tag).where(models.Tag.resource_id == resource_id))


def network_visible(caller: Caller) -> ColumnElement[bool] | None:
    """Networks the caller may see: its own, shared, external, or shared with it by RBAC."""
    if caller.is_admin:
        return None
    return or_(
        models.Network.project_id == caller.project_id,
        models.Network.shared.is_(True),
        models.Network.external.is_(True),
        models.Network.id.in_(rbac_shared_ids(caller.project_id)),
    )


def rbac_shared_ids(project_id: str) -> Any:
    return select(models.RBACPolicy.object_id).where(
        models.RBACPolicy.object_type == "network",
        models.RBACPolicy.action.in_(("access_as_shared", "access_as_external")),
        models.RBACPolicy.target_project.in_((project_id, "*")),
    )


def owned(model: Any, caller: Caller) -> ColumnElement[bool] | None:
    return None if caller.is_admin else model.project_id == caller.project_id


DEFAULT_QUOTAS: dict[str, int] = {
    "network": 100,
    "subnet": 100,
    "subnetpool": -1,
    "port": 500,
    "router": 10,
    "floatingip": 50,
    "security_group": 10,
    "security_group_rule": 100,
    "rbac_policy": 10,
}

QUOTA_MODELS: dict[str, Any] = {
    "network": models.Network,
    "subnet": models.Subnet,
    "subnetpool": models.SubnetPool,
    "port": models.Port,
    "router": models.Router,
    "floatingip": models.FloatingIP,
    "security_group": models.SecurityGroup,
    "security_group_rule": models.SecurityGroupRule,
    "rbac_policy": models.RBACPolicy,
}


async def quota_limits(session: AsyncSession, project_id: str) -> dict[str, int]:
    limits = dict(DEFAULT_QUOTAS)
    rows = await session.execute(
        select(models.Quota.resource, models.Quota.limit).where(
            models.Quota.project_id == project_id
        )
    )
    for resource, limit in rows:
        limits[resource] = limit
    return limits


async def usage(session: AsyncSession, project_id: str, resource: str) -> int:
    model = QUOTA_MODELS[resource]
    count = await session.scalar(
        select(func.count()).select_from(model).where(model.project_id == project_id)
    )
    return int(count or 0)


async def check_quota(
    session: AsyncSession, project_id: str, resource: str, adding: int = 1
) -> None:
    """409 OverQuota when ``adding`` more would exceed the project's limit (-1: none).
    Counted under the project's quota lock, held until the transaction ends: concurrent
    creates in the project count one after the other (``common.quota``)."""
    if not project_id:
        return  # resources of the system (router gateway and floating IP ports)
    await lock_quota(session, f"network:{project_id}")
    limit = (await quota_limits(session, project_id)).get(resource, -1)
    if limit < 0:
        return
    if await usage(session, project_id, resource) + adding > limit:
        raise nerr.OverQuota(overs=resource)


# Which run of a retried transaction this is: a retry picks among free addresses at random,
# so that N concurrent creates do not all collide on the lowest free address N times over.
RETRY_ATTEMPT: contextvars.ContextVar[int] = contextvars.ContextVar("retry_attempt", default=0)
RETRY_WINDOW = 64


def pick_free(candidates: Iterable[T]) -> T | None:
    """The lowest free candidate on a first try; on a retry, a random one of the lowest few."""
    if RETRY_ATTEMPT.get() == 0:
        return next(iter(candidates), None)
    window = list(itertools.islice(candidates, RETRY_WINDOW))
    return random.choice(window) if window else None


async def retrying(fn: Callable[[], Awaitable[T]], attempts: int = 10) -> T:
    """Run a whole transaction again when a concurrent writer won a unique key (the generic
    ``Conflict`` that ``Database.session`` raises) or the engine reported a deadlock."""
    for attempt in range(attempts):
        token = RETRY_ATTEMPT.set(attempt)
        try:
            return await fn()
        except (errors.Conflict, errors.ServiceUnavailable) as exc:
            if type(exc) not in (errors.Conflict, errors.ServiceUnavailable):
                raise
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.005 * (attempt + 1) + random.random() * 0.01)
        finally:
            RETRY_ATTEMPT.reset(token)
    raise AssertionError("unreachable")
