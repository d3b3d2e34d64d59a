"""Flavors: the sizes servers are booted with (public, or private with an access list)."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.pagination import PageParams, apply_page
from onestack.compute import models
from onestack.compute.service.base import ComputeContext

# Nova's classic public flavors (m1.nano is the small one test clouds add).
DEFAULT_FLAVORS = (
    ("m1.nano", "0", 64, 1, 1),
    ("m1.tiny", "1", 512, 1, 1),
    ("m1.small", "2", 2048, 1, 20),
    ("m1.medium", "3", 4096, 2, 40),
    ("m1.large", "4", 8192, 4, 80),
)


class FlavorNotFound(errors.NotFound):
    template = "Flavor {id} could not be found."


def snapshot(row: models.Flavor, extra_specs: dict[str, str]) -> dict[str, Any]:
    """The copy a server keeps of its flavor (Nova embeds it: later edits don't change it)."""
    return {
        "id": row.id,
        "flavorid": row.flavorid,
        "name": row.name,
        "memory_mb": row.memory_mb,
        "vcpus": row.vcpus,
        "root_gb": row.root_gb,
        "ephemeral_gb": row.ephemeral_gb,
        "swap": row.swap,
        "rxtx_factor": row.rxtx_factor,
        "is_public": row.is_public,
        "description": row.description,
        "extra_specs": extra_specs,
    }


class FlavorExists(errors.Conflict):
    template = "Flavor with {what} {value} already exists."


class ExtraSpecNotFound(errors.NotFound):
    template = "Flavor {id} has no extra specs with key {key}."


# Nova's flavor sort keys (``vcpu_weight`` is not kept, it sorts as ``id``).
SORT_KEYS = (
    "created_at",
    "description",
    "disabled",
    "ephemeral_gb",
    "flavorid",
    "id",
    "is_public",
    "memory_mb",
    "name",
    "root_gb",
    "rxtx_factor",
    "swap",
    "updated_at",
    "vcpus",
)


@dataclass
class FlavorView:
    row: models.Flavor
    extra_specs: dict[str, str]


def _accessible(ctx: RequestContext) -> Any:
    """Public flavors, and the private ones the caller's project was given."""
    granted = select(models.FlavorAccess.flavor_id).where(
        models.FlavorAccess.project_id == (ctx.project_id or "")
    )
    return or_(models.Flavor.is_public.is_(True), models.Flavor.id.in_(granted))


class FlavorCatalog:
    """Listing, showing and managing flavors (the API's side; ``Flavors`` adds it)."""

    context: ComputeContext

    async def _specs(self, s: AsyncSession, ids: list[int]) -> dict[int, dict[str, str]]:
        out: dict[int, dict[str, str]] = {i: {} for i in ids}
        if ids:
            rows = await s.scalars(
                select(models.FlavorExtraSpec).where(models.FlavorExtraSpec.flavor_id.in_(ids))
            )
            for e in rows:
                out[e.flavor_id][e.key] = e.value
        return out

    async def _visible(self, s: AsyncSession, ctx: RequestContext, flavorid: str) -> models.Flavor:
        stmt = select(models.Flavor).where(models.Flavor.flavorid == flavorid)
        if not ctx.is_admin:
            stmt = stmt.where(_accessible(ctx))
        row = await s.scalar(stmt)
        if row is None:
            raise FlavorNotFound(id=flavorid)
        return row

    async def list(
        self,
        ctx: RequestContext,
        *,
        is_public: bool | None = True,
        min_ram: int | None = None,
        min_disk: int | None = None,
        sort: tuple[tuple[str, str], ...] = (("flavorid", "asc"),),
        limit: int | None = None,
        marker: str | None = None,
    ) -> builtins.list[FlavorView]:
        """Nova's rules: an admin sees public flavors by default, private ones with
        ``is_public=false`` and both with ``is_public=None``; anyone else sees the public
        flavors and the private ones their project may use."""
        stmt = select(models.Flavor).where(models.Flavor.disabled.is_(False))
        if ctx.is_admin:
            if is_public is not None:
                stmt = stmt.where(models.Flavor.is_public.is_(is_public))
        else:
            stmt = stmt.where(_accessible(ctx))
        if min_ram is not None:
            stmt = stmt.where(models.Flavor.memory_mb >= min_ram)
        if min_disk is not None:
            stmt = stmt.where(models.Flavor.root_gb >= min_disk)
        async with self.context.db.session() as s:
            marker_row = None
            if marker is not None:
                marker_row = await s.scalar(
                    select(models.Flavor).where(models.Flavor.flavorid == marker)
                )
                if marker_row is None:
                    raise errors.BadRequest(f"marker [{marker}] not found")
            params = PageParams(limit, marker, sort)
            rows = list(await s.scalars(apply_page(stmt, models.Flavor, params, marker_row)))
            specs = await self._specs(s, [r.id for r in rows])
        return [FlavorView(r, specs[r.id]) for r in rows]

    async def get(self, ctx: RequestContext, flavorid: str) -> FlavorView:
        async with self.context.db.session() as s:
            row = await self._visible(s, ctx, flavorid)
            return FlavorView(row, (await self._specs(s, [row.id]))[row.id])

    async def create(
        self,
        *,
        name: str,
        flavorid: str | None,
        ram: int,
        vcpus: int,
        disk: int,
        ephemeral: int = 0,
        swap: int = 0,
        rxtx_factor: float = 1.0,
        is_public: bool = True,
        description: str | None = None,
    ) -> FlavorView:
        fid = flavorid if flavorid is not None else str(uuid.uuid4())
        async with self.context.db.session() as s:
            if (
                await s.scalar(select(models.Flavor.id).where(models.Flavor.name == name))
                is not None
            ):
                raise FlavorExists(what="name", value=name)
            if (
                await s.scalar(select(models.Flavor.id).where(models.Flavor.flavorid == fid))
                is not None
            ):
                raise FlavorExists(what="ID", value=fid)
            row = models.Flavor(
                flavorid=fid,
                name=name,
                memory_mb=ram,
                vcpus=vcpus,
                root_gb=disk,
                ephemeral_gb=ephemeral,
                swap=swap,
                rxtx_factor=rxtx_factor,
                is_public=is_public,
                disabled=False,
                description=description,
                created_at=utcnow(),
            )
            s.add(row)
            await s.flush()
        return FlavorView(row, {})

    async def update_description(self, flavorid: str, description: str | None) -> FlavorView:
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Flavor).where(models.Flavor.flavorid == flavorid))
            if row is None:
                raise FlavorNotFound(id=flavorid)
            row.description = description
            row.updated_at = utcnow()
            specs = (await self._specs(s, [row.id]))[row.id]
        return FlavorView(row, specs)

    async def delete(self, flavorid: str) -> None:
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Flavor).where(models.Flavor.flavorid == flavorid))
            if row is None:
                raise FlavorNotFound(id=flavorid)
            # Rows go explicitly: SQLite enforces no cascades without its foreign-key pragma.
            await s.execute(
                delete(models.FlavorExtraSpec).where(models.FlavorExtraSpec.flavor_id == row.id)
            )
            await s.execute(
                delete(models.FlavorAccess).where(models.FlavorAccess.flavor_id == row.id)
            )
            await s.delete(row)

    # extra specs

    async def extra_specs(self, ctx: RequestContext, flavorid: str) -> dict[str, str]:
        return (await self.get(ctx, flavorid)).extra_specs

    async def set_extra_specs(self, flavorid: str, specs: dict[str, str]) -> None:
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Flavor).where(models.Flavor.flavorid == flavorid))
            if row is None:
                raise FlavorNotFound(id=flavorid)
            for key, value in specs.items():
                spec = await s.get(models.FlavorExtraSpec, (row.id, key))
                if spec is None:
                    s.add(models.FlavorExtraSpec(flavor_id=row.id, key=key, value=value))
                else:
                    spec.value = value
            row.updated_at = utcnow()

    async def delete_extra_spec(self, flavorid: str, key: str) -> None:
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Flavor).where(models.Flavor.flavorid == flavorid))
            if row is None:
                raise FlavorNotFound(id=flavorid)
            spec = await s.get(models.FlavorExtraSpec, (row.id, key))
            if spec is None:
                raise ExtraSpecNotFound(id=flavorid, key=key)
            await s.delete(spec)

    # access lists of private flavors

    async def access(self, flavorid: str) -> builtins.list[str]:
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Flavor).where(models.Flavor.flavorid == flavorid))
            if row is None:
                raise FlavorNotFound(id=flavorid)
            if row.is_public:
                raise errors.NotFound("Access list not available for public flavors.")
            projects = await s.scalars(
                select(models.FlavorAccess.project_id)
                .where(models.FlavorAccess.flavor_id == row.id)
                .order_by(models.FlavorAccess.project_id)
            )
            return list(projects)

    async def add_access(self, flavorid: str, project_id: str) -> builtins.list[str]:
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Flavor).where(models.Flavor.flavorid == flavorid))
            if row is None:
                raise FlavorNotFound(id=flavorid)
            if row.is_public:
                raise errors.Conflict("Can not add access to a public flavor.")
            if await s.get(models.FlavorAccess, (row.id, project_id)) is not None:
                raise errors.Conflict(
                    f"Flavor access already exists for flavor {flavorid} and project "
                    f"{project_id} combination."
                )
            s.add(models.FlavorAccess(flavor_id=row.id, project_id=project_id))
        return await self.access(flavorid)

    async def remove_access(self, flavorid: str, project_id: str) -> builtins.list[str]:
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Flavor).where(models.Flavor.flavorid == flavorid))
            if row is None:
                raise FlavorNotFound(id=flavorid)
            grant = await s.get(models.FlavorAccess, (row.id, project_id))
            if grant is None:
                raise errors.NotFound(
                    f"Flavor access not found for {flavorid} / {project_id} combination."
                )
            await s.delete(grant)
        return await self.access(flavorid)


class Flavors(FlavorCatalog):
    def __init__(self, context: ComputeContext) -> None:
        self.context = context

    async def ensure_defaults(self) -> None:
        """Create the m1.* flavors on a new cloud (never again once any flavor exists)."""
        async with self.context.db.session() as s:
            if await s.scalar(select(models.Flavor.id).limit(1)) is not None:
                return
            for name, flavorid, ram, vcpus, disk in DEFAULT_FLAVORS:
                s.add(
                    models.Flavor(
                        flavorid=flavorid,
                        name=name,
                        memory_mb=ram,
                        vcpus=vcpus,
                        root_gb=disk,
                        ephemeral_gb=0,
                        swap=0,
                        rxtx_factor=1.0,
                        is_public=True,
                        disabled=False,
                    )
                )

    async def for_boot(self, ctx: RequestContext, flavor_ref: str) -> dict[str, Any]:
        """The flavor a server is booted or resized with, as a snapshot; 400 when the caller
        cannot use it (unknown, disabled, or private without access), as Nova answers."""
        ref = flavor_ref.rstrip("/").rsplit("/", 1)[-1]
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Flavor).where(models.Flavor.flavorid == ref))
            if row is None or row.disabled:
                raise errors.BadRequest(f"Flavor {ref} could not be found.")
            if not row.is_public and not ctx.is_admin:
                access = await s.get(models.FlavorAccess, (row.id, ctx.project_id or ""))
                if access is None:
                    raise errors.BadRequest(f"Flavor {ref} could not be found.")
            specs = await s.scalars(
                select(models.FlavorExtraSpec).where(models.FlavorExtraSpec.flavor_id == row.id)
            )
            return snapshot(row, {e.key: e.value for e in specs})
