"""Image members: the projects a ``shared`` image is offered to, and their answers."""

from __future__ import annotations

from sqlalchemy import select

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.image.models import ImageMember
from onestack.image.service.base import ImageContext, is_admin, require_owner, visible_row
from onestack.image.service.records import MemberRecord


def _not_found(image_id: str, member_id: str) -> errors.NotFound:
    return errors.NotFound(f"{member_id} is not a member of image {image_id}.")


class Members:
    def __init__(self, base: ImageContext) -> None:
        self.db = base.db
        self.base = base

    async def listing(self, ctx: RequestContext | None, image_id: str) -> list[MemberRecord]:
        """The owner sees every member; a member sees only its own record."""
        async with self.db.session() as s:
            row = await visible_row(s, ctx, image_id)
            stmt = select(ImageMember).where(ImageMember.image_id == image_id)
            if not is_admin(ctx) and ctx is not None and row.owner != ctx.project_id:
                stmt = stmt.where(ImageMember.member == ctx.project_id)
            rows = await s.scalars(stmt.order_by(ImageMember.created_at, ImageMember.member))
            return [MemberRecord.of(m) for m in rows]

    async def get(self, ctx: RequestContext | None, image_id: str, member_id: str) -> MemberRecord:
        async with self.db.session() as s:
            row = await visible_row(s, ctx, image_id)
            mine = is_admin(ctx) or (ctx is not None and row.owner == ctx.project_id)
            if not mine and ctx is not None and member_id != ctx.project_id:
                raise _not_found(image_id, member_id)
            found = await s.get(ImageMember, (image_id, member_id))
            if found is None:
                raise _not_found(image_id, member_id)
            return MemberRecord.of(found)

    async def add(self, ctx: RequestContext | None, image_id: str, member_id: str) -> MemberRecord:
        async with self.db.session() as s:
            row = await visible_row(s, ctx, image_id)
            require_owner(ctx, row, "share")
            if row.visibility != "shared":
                raise errors.Forbidden(
                    f"Only shared images have members; image {image_id} is {row.visibility}."
                )
            if await s.get(ImageMember, (image_id, member_id)) is not None:
                raise errors.Conflict(f"{member_id} is already a member of image {image_id}.")
            now = utcnow()
            member = ImageMember(
                image_id=image_id,
                member=member_id,
                status="pending",
                created_at=now,
                updated_at=now,
            )
            s.add(member)
            await s.flush()
            return MemberRecord.of(member)

    async def update(
        self, ctx: RequestContext | None, image_id: str, member_id: str, status: str
    ) -> MemberRecord:
        """Only the member itself (or an admin) accepts or rejects, never the owner."""
        async with self.db.session() as s:
            await visible_row(s, ctx, image_id)
            found = await s.get(ImageMember, (image_id, member_id))
            if found is None:
                raise _not_found(image_id, member_id)
            if not is_admin(ctx) and ctx is not None and ctx.project_id != member_id:
                raise errors.Forbidden("Only the member itself can change its status.")
            found.status = status
            found.updated_at = utcnow()
            await s.flush()
            return MemberRecord.of(found)

    async def remove(self, ctx: RequestContext | None, image_id: str, member_id: str) -> None:
        async with self.db.session() as s:
            row = await visible_row(s, ctx, image_id)
            found = await s.get(ImageMember, (image_id, member_id))
            if found is None:
                raise _not_found(image_id, member_id)
            require_owner(ctx, row, "unshare")
            await s.delete(found)
