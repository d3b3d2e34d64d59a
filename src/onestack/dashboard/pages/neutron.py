"""What the network pages share besides their forms: a Neutron resource by id, the check
that it is the user's project's, and names looked up in one call per page."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from onestack.dashboard.web import Ctx, NotFound


async def names(ctx: Ctx, collection: str, ids: Iterable[str]) -> dict[str, str]:
    """Names of Neutron resources by id, in one call."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    found = await ctx.api.get("network", f"/v2.0/{collection}", id=wanted, fields=["id", "name"])
    key = collection.replace("-", "_")
    return {str(r["id"]): str(r.get("name") or r["id"]) for r in found[key]}


async def one(ctx: Ctx, collection: str, member: str, ident: str) -> dict[str, Any]:
    found: dict[str, Any] = (await ctx.api.get("network", f"/v2.0/{collection}/{ident}"))[member]
    return found


def mine(ctx: Ctx, resource: Mapping[str, Any]) -> None:
    """A page that changes a resource: another project's (shared, external) is not found."""
    if resource.get("project_id") != ctx.user.project_id and not ctx.user.is_admin:
        raise NotFound("The resource was not found.")
