"""Volume types: names for a kind of storage, their extra specs and who may use them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.volume import errors as verr
from onestack.volume.models import DefaultType, Volume, VolumeType, VolumeTypeAccess
from onestack.volume.service.base import VolumeContext, is_admin, valid_uuid

DEFAULT_DESCRIPTION = "Default Volume Type"


def accessible(ctx: RequestContext | None) -> object:
    """Public types, and private ones shared with the caller's project (admins: all)."""
    if is_admin(ctx):
        return None
    assert ctx is not None
    shared = exists().where(
        VolumeTypeAccess.volume_type_id == VolumeType.id,
        VolumeTypeAccess.project_id == (ctx.project_id or ""),
    )
    return or_(VolumeType.is_public.is_(True), shared)


async def find_type(session: AsyncSession, ctx: RequestContext | None, ref: str) -> VolumeType:
    """A type by id or name that ``ctx`` may use; 404 otherwise."""
    clause = VolumeType.id == ref if valid_uuid(ref) else VolumeType.name == ref
    stmt = select(VolumeType).where(clause)
    cond = accessible(ctx)
    if cond is not None:
        stmt = stmt.where(cond)  # type: ignore[arg-type]
    row = await session.scalar(stmt)
    if row is None and valid_uuid(ref):  # a type may be named like a uuid
        row = await session.scalar(select(VolumeType).where(VolumeType.name == ref))
    if row is None:
        raise verr.TypeNotFound(id=ref)
    return row


class Types:
    def __init__(self, context: VolumeContext) -> None:
        self.context = context

    async def ensure_default(self) -> VolumeType:
        name = self.context.settings.default_volume_type
        async with self.context.db.session() as s:
            row = await s.scalar(select(VolumeType).where(VolumeType.name == name))
            if row is None:
                row = VolumeType(
                    id=str(uuid.uuid4()), name=name, description=DEFAULT_DESCRIPTION,
                    is_public=True, extra_specs={},
                )  # fmt: skip
                s.add(row)
            return row

    async def default(self, ctx: RequestContext | None) -> VolumeType:
        """The caller's project's default type (3.62), else the configured one."""
        async with self.context.db.session() as s:
            own = await s.get(DefaultType, ctx.project_id) if ctx and ctx.project_id else None
            if own is not None:
                return await find_type(s, None, own.volume_type_id)
            return await find_type(s, None, self.context.settings.default_volume_type)

    async def set_project_default(self, project_id: str, ref: str) -> DefaultType:
        async with self.context.db.session() as s:
            vtype = await find_type(s, None, ref)
            row = await s.get(DefaultType, project_id)
            if row is None:
                row = DefaultType(project_id=project_id, volume_type_id=vtype.id)
                s.add(row)
            row.volume_type_id = vtype.id
            return row

    async def project_defaults(self, project_id: str | None) -> list[DefaultType]:
        async with self.context.db.session() as s:
            stmt = select(DefaultType).order_by(DefaultType.project_id)
            if project_id is not None:
                stmt = stmt.where(DefaultType.project_id == project_id)
            found = list(await s.scalars(stmt))
        if project_id is not None and not found:
            raise errors.NotFound(f"Default type for project {project_id} could not be found.")
        return found

    async def unset_project_default(self, project_id: str) -> None:
        async with self.context.db.session() as s:
            row = await s.get(DefaultType, project_id)
            if row is not None:
                await s.delete(row)

    async def listing(
        self, ctx: RequestContext, is_public: bool | None, extra_specs: dict[str, str]
    ) -> list[VolumeType]:
        stmt = select(VolumeType).order_by(VolumeType.name)
        cond = accessible(ctx)
        if cond is not None:
            stmt = stmt.where(cond)  # type: ignore[arg-type]
        if is_public is not None and is_admin(ctx):
            stmt = stmt.where(VolumeType.is_public.is_(is_public))
        async with self.context.db.session() as s:
            rows = list(await s.scalars(stmt))
        return [r for r in rows if all(r.extra_specs.get(k) == v for k, v in extra_specs.items())]

    async def get(self, ctx: RequestContext | None, ref: str) -> VolumeType:
        async with self.context.db.session() as s:
            return await find_type(s, ctx, ref)

    async def create(
        self,
        name: str,
        description: str | None,
        is_public: bool,
        extra_specs: dict[str, str],
    ) -> VolumeType:
        async with self.context.db.session() as s:
            if await s.scalar(select(VolumeType).where(VolumeType.name == name)) is not None:
                raise errors.Conflict(f"Volume Type {name} already exists.")
            row = VolumeType(
                id=str(uuid.uuid4()), name=name, description=description,
                is_public=is_public, extra_specs=dict(extra_specs),
            )  # fmt: skip
            s.add(row)
        return row

    async def update(
        self, ref: str, name: str | None, description: str | None, is_public: bool | None,
        *, set_description: bool,
    ) -> VolumeType:  # fmt: skip
        async with self.context.db.session() as s:
            row = await find_type(s, None, ref)
            if name is not None and name != row.name:
                if row.name == self.context.settings.default_volume_type:
                    raise errors.BadRequest("The default volume type cannot be renamed.")
                taken = await s.scalar(select(VolumeType).where(VolumeType.name == name))
                if taken is not None:
                    raise errors.Conflict(f"Volume Type {name} already exists.")
                row.name = name
            if set_description:
                row.description = description
            if is_public is not None:
                row.is_public = is_public
        return row

    async def delete(self, ref: str) -> None:
        async with self.context.db.session() as s:
            row = await find_type(s, None, ref)
            if row.name == self.context.settings.default_volume_type:
                raise errors.BadRequest("Default volume type can not be deleted.")
            used = await s.scalar(
                select(func.count()).select_from(Volume).where(Volume.volume_type_id == row.id)
            )
            if used:
                raise errors.BadRequest(
                    f"Target volume type is still in use. Volume Type {row.id} deletion is "
                    "not allowed with volumes present with the type."
                )
            await s.delete(row)

    async def set_specs(self, ref: str, specs: dict[str, str]) -> dict[str, str]:
        async with self.context.db.session() as s:
            row = await find_type(s, None, ref)
            await self._refuse_in_use(s, row)
            row.extra_specs = {**row.extra_specs, **specs}
            return dict(row.extra_specs)

    async def delete_spec(self, ref: str, key: str) -> None:
        async with self.context.db.session() as s:
            row = await find_type(s, None, ref)
            if key not in row.extra_specs:
                raise errors.NotFound(f"Volume Type {row.id} has no extra specs with key {key}.")
            await self._refuse_in_use(s, row)
            row.extra_specs = {k: v for k, v in row.extra_specs.items() if k != key}

    async def _refuse_in_use(self, s: AsyncSession, row: VolumeType) -> None:
        """Cinder refuses to change the specs of a type volumes use (their backend chose)."""
        used = await s.scalar(
            select(func.count()).select_from(Volume).where(Volume.volume_type_id == row.id)
        )
        if used:
            raise errors.BadRequest(
                f"Volume Type {row.id} is in use: its extra specs cannot change."
            )

    async def access(self, ref: str) -> list[str]:
        async with self.context.db.session() as s:
            row = await find_type(s, None, ref)
            if row.is_public:
                raise errors.NotFound("Access list not available for public volume types.")
            return list(
                await s.scalars(
                    select(VolumeTypeAccess.project_id).where(
                        VolumeTypeAccess.volume_type_id == row.id
                    )
                )
            )

    async def set_access(self, ref: str, project_id: str, allow: bool) -> None:
        async with self.context.db.session() as s:
            row = await find_type(s, None, ref)
            if row.is_public:
                raise errors.BadRequest("Invalid volume type: Type access modification is "
                                        "not applicable to public volume type.")  # fmt: skip
            current = await s.get(VolumeTypeAccess, (row.id, project_id))
            if allow and current is not None:
                raise errors.Conflict(
                    f"Volume type access for {row.id} / {project_id} combination already exists."
                )
            if not allow and current is None:
                raise errors.NotFound(
                    f"Volume type access not found for {row.id} / {project_id} combination."
                )
            if allow:
                s.add(VolumeTypeAccess(volume_type_id=row.id, project_id=project_id))
            else:
                await s.delete(current)

    async def names(self, ids: Sequence[str]) -> dict[str, VolumeType]:
        if not ids:
            return {}
        async with self.context.db.session() as s:
            rows = await s.scalars(select(VolumeType).where(VolumeType.id.in_(set(ids))))
            return {r.id: r for r in rows}
