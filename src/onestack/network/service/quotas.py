"""Per-project quotas: the limits, their usage, and changing or resetting them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from onestack.common.http import query_bool
from onestack.network import errors as nerr
from onestack.network import models
from onestack.network.service.base import (
    DEFAULT_QUOTAS,
    NetworkContext,
    quota_limits,
    usage,
)

QUOTA_MAX = 2**31 - 1  # the limit column's range


def _quota_value(value: Any) -> int:
    """A limit: an integer (or its string) from -1 (none) to what the column holds."""
    if isinstance(value, bool):
        raise nerr.InvalidInput(reason=f"'{value}' is not an integer")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise nerr.InvalidInput(reason=f"'{value}' is not an integer") from None
    if number < -1:
        raise nerr.InvalidInput(reason=f"'{number}' should be greater than or equal to -1")
    if number > QUOTA_MAX:
        raise nerr.InvalidInput(reason=f"'{number}' should be at most {QUOTA_MAX}")
    return number


def _flag(changes: dict[str, Any], name: str) -> bool:
    """Take the boolean ``name`` out of ``changes`` (absent: false)."""
    value = changes.pop(name, False)
    if not isinstance(value, bool):
        value = query_bool(str(value))
        if value is None:
            raise nerr.InvalidInput(reason=f"'{name}' is not a boolean")
    return value


class Quotas:
    def __init__(self, ctx: NetworkContext) -> None:
        self.ctx = ctx

    async def get(self, project_id: str) -> dict[str, int]:
        async with self.ctx.db.session() as session:
            return await quota_limits(session, project_id)

    async def details(self, project_id: str) -> dict[str, dict[str, int]]:
        async with self.ctx.db.session() as session:
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
        async with self.ctx.db.session() as session:
            projects = (await session.scalars(select(models.Quota.project_id).distinct())).all()
            return [(p, await quota_limits(session, p)) for p in sorted(projects)]

    async def update(self, project_id: str, changes: dict[str, Any]) -> dict[str, int]:
        """Set the project's limits. ``check_limit`` (the quota-check-limit extension, which
        the OpenStack client sends): 400 for a limit below what the project already uses;
        ``force`` (quota-check-limit-default, sent by ``quota set --force``): no such check."""
        check_limit, force = _flag(changes, "check_limit"), _flag(changes, "force")
        check_limit = check_limit and not force
        for name, value in changes.items():
            if name not in DEFAULT_QUOTAS:
                raise nerr.InvalidInput(reason=f"Unrecognized attribute(s) '{name}'")
            changes[name] = _quota_value(value)
        async with self.ctx.db.session() as session:
            if check_limit:
                for name, value in changes.items():
                    used = await usage(session, project_id, name)
                    if 0 <= value < used:
                        raise nerr.InvalidInput(
                            reason=f"Quota limit {value} for {name} must be greater than or "
                            f"equal to already used and reserved {used}."
                        )
            for name, value in changes.items():
                row = await session.get(models.Quota, (project_id, name))
                if row is None:
                    session.add(models.Quota(project_id=project_id, resource=name, limit=value))
                else:
                    row.limit = value
            await session.flush()
            return await quota_limits(session, project_id)

    async def reset(self, project_id: str) -> None:
        async with self.ctx.db.session() as session:
            await session.execute(delete(models.Quota).where(models.Quota.project_id == project_id))
