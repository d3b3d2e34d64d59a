"""Image records: create, show, list with Glance's filters, JSON-patch updates, tags,
deactivation, deletion. The bytes are ``data.py``'s business."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, exists, func, or_, select, update

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.http import query_bool
from onestack.common.pagination import PageParams, apply_page
from onestack.common.quota import lock_quota
from onestack.image import schemas
from onestack.image.faults import OverQuota
from onestack.image.models import Image, ImageProperty, ImageTag
from onestack.image.service.base import (
    ImageContext,
    is_admin,
    member_clause,
    records,
    require_owner,
    valid_id,
    visible_row,
)
from onestack.image.service.records import ImageRecord

SORT_KEYS = (
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "virtual_size",
    "id",
    "created_at",
    "updated_at",
    "min_disk",
    "min_ram",
    "visibility",
    "owner",
    "protected",
    "os_hidden",
)
# Query parameters that are not property filters.
LIST_PARAMS = frozenset(
    {
        "limit",
        "marker",
        "sort",
        "sort_key",
        "sort_dir",
        "visibility",
        "member_status",
        "tag",
        "size_min",
        "size_max",
        "protected",
        "os_hidden",
        "created_at",
        "updated_at",
        "id",
        "name",
        "status",
        "owner",
        "disk_format",
        "container_format",
        "checksum",
        "os_hash_value",
        *("size", "virtual_size", "min_disk", "min_ram"),
    }
)
TIME_OPERATORS = {"gt", "gte", "lt", "lte", "eq", "neq"}


@dataclass(frozen=True)
class PatchOp:
    op: str  # add | replace | remove
    attr: str
    value: Any = None


def parse_patch(body: Any) -> list[PatchOp]:
    """An ``application/openstack-images-v2.1-json-patch`` document → checked operations."""
    if not isinstance(body, list):
        raise errors.BadRequest("A JSON-patch body is a list of operations.")
    ops: list[PatchOp] = []
    for item in body:
        if not isinstance(item, dict) or "op" not in item or "path" not in item:
            raise errors.BadRequest("Each patch operation needs 'op' and 'path'.")
        op, path = item["op"], item["path"]
        if op not in ("add", "replace", "remove"):
            raise errors.BadRequest(f"Unsupported patch operation {op!r}.")
        if not isinstance(path, str) or not path.startswith("/") or path == "/":
            raise errors.BadRequest(f"Invalid patch path {path!r}.")
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
        if len(parts) == 2 and parts[0] == "tags" and op in ("add", "remove"):
            # RFC 6902 on the tag list: add /tags/-, remove /tags/<index> are accepted too.
            ops.append(PatchOp(f"tag-{op}", parts[1], item.get("value")))
            continue
        if len(parts) != 1:
            raise errors.BadRequest(f"Invalid patch path {path!r}: nested paths are not allowed.")
        attr = parts[0]
        schemas.check_settable(attr)
        if op != "remove" and "value" not in item:
            raise errors.BadRequest(f"Operation {op!r} on {path!r} needs a value.")
        if op == "remove" and attr in schemas.CORE:
            raise errors.Forbidden(f"Attribute '{attr}' cannot be removed.")
        value = item.get("value")
        if op != "remove":
            value = (
                schemas.check_core(attr, value)
                if attr in schemas.CORE
                else schemas.check_property(attr, value)
            )
        ops.append(PatchOp(op, attr, value))
    return ops


def _time_filter(column: Any, spec: str) -> ColumnElement[bool]:
    op, _, raw = spec.partition(":")
    if op not in TIME_OPERATORS or not raw:
        raise errors.BadRequest(f"Invalid time filter {spec!r}: use gt|gte|lt|lte|eq|neq:<time>.")
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise errors.BadRequest(f"Invalid time {raw!r}.") from None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    result: ColumnElement[bool] = {
        "gt": column > when,
        "gte": column >= when,
        "lt": column < when,
        "lte": column <= when,
        "eq": column == when,
        "neq": column != when,
    }[op]
    return result


def _in_or_eq(column: Any, value: str) -> ColumnElement[bool]:
    if value.startswith("in:"):
        found: ColumnElement[bool] = column.in_([v.strip('"') for v in value[3:].split(",")])
        return found
    equal: ColumnElement[bool] = column == value
    return equal


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise errors.BadRequest(f"Invalid {name} {value!r}: an integer is required.") from None


class Images:
    def __init__(self, base: ImageContext) -> None:
        self.base = base
        self.db = base.db
        self.settings = base.settings

    # --- reading ----------------------------------------------------------------------------
    async def get(self, ctx: RequestContext | None, image_id: str) -> ImageRecord:
        async with self.db.session() as s:
            row = await visible_row(s, ctx, image_id)
            return (await records(s, [row], ctx))[0]

    def _list_conditions(
        self, ctx: RequestContext | None, query: Mapping[str, str], tags: list[str]
    ) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        vis = query.get("visibility")
        if vis is not None and vis not in (*schemas.VISIBILITIES, "all"):
            raise errors.BadRequest(f"Invalid visibility value: {vis}")
        member_status = query.get("member_status", "accepted")
        if member_status not in (*schemas.MEMBER_STATUSES, "all"):
            raise errors.BadRequest(f"Invalid member_status value: {member_status}")
        statuses = None if member_status == "all" else [member_status]
        if is_admin(ctx):
            if vis not in (None, "all"):
                conds.append(Image.visibility == vis)
        else:
            assert ctx is not None
            project = ctx.project_id
            mine = Image.owner == project
            shared_with_me = and_(Image.visibility == "shared", member_clause(project, statuses))
            if vis in (None, "all"):
                options = [Image.visibility == "public", mine, shared_with_me]
                if vis == "all":
                    options.append(Image.visibility == "community")
                conds.append(or_(*options))
            elif vis in ("public", "community"):
                conds.append(Image.visibility == vis)
            elif vis == "private":
                conds.append(and_(Image.visibility == "private", mine))
            else:  # shared: mine, or shared with me in the asked member status
                conds.append(
                    and_(Image.visibility == "shared", or_(mine, member_clause(project, statuses)))
                )
        hidden = query_bool(query.get("os_hidden"))
        conds.append(Image.os_hidden == bool(hidden))
        for name in ("id", "name", "status", "owner", "disk_format", "container_format"):
            if name in query:
                conds.append(_in_or_eq(getattr(Image, name), query[name]))
        for name in ("checksum", "os_hash_value"):
            if name in query:
                conds.append(getattr(Image, name) == query[name])
        # Glance compares its integer columns for equality (size=1259), beside size_min/max.
        for name in ("size", "virtual_size", "min_disk", "min_ram"):
            if name in query:
                conds.append(getattr(Image, name) == _int(query[name], name))
        if "protected" in query:
            conds.append(Image.protected == bool(query_bool(query["protected"])))
        if "size_min" in query:
            conds.append(Image.size >= _int(query["size_min"], "size_min"))
        if "size_max" in query:
            conds.append(Image.size <= _int(query["size_max"], "size_max"))
        for name in ("created_at", "updated_at"):
            if name in query:
                conds.append(_time_filter(getattr(Image, name), query[name]))
        for tag in tags:
            conds.append(exists().where(ImageTag.image_id == Image.id, ImageTag.value == tag))
        for key, value in query.items():
            if key not in LIST_PARAMS:
                conds.append(
                    exists().where(
                        ImageProperty.image_id == Image.id,
                        ImageProperty.name == key,
                        ImageProperty.value == value,
                    )
                )
        return conds

    async def listing(
        self,
        ctx: RequestContext | None,
        query: Mapping[str, str],
        tags: list[str],
        page: PageParams,
    ) -> list[ImageRecord]:
        conds = self._list_conditions(ctx, query, tags)
        async with self.db.session() as s:
            marker_row = None
            if page.marker is not None:
                stmt: Select[Any] = select(Image).where(Image.id == page.marker)
                marker_row = await s.scalar(stmt) if valid_id(page.marker) else None
                if marker_row is None:
                    raise errors.BadRequest(f"Invalid marker. Image {page.marker} not found.")
            stmt = apply_page(select(Image).where(*conds), Image, page, marker_row)
            rows = list(await s.scalars(stmt))
            return await records(s, rows, ctx)

    # --- writing ----------------------------------------------------------------------------
    async def _check_count_quota(self, s: Any, owner: str | None) -> None:
        limit = self.settings.quota_images
        if limit < 0 or owner is None:
            return
        await lock_quota(s, f"image:{owner}")  # counted under the owner's lock
        count = await s.scalar(select(func.count()).select_from(Image).where(Image.owner == owner))
        if count >= limit:
            raise OverQuota(what=f"Maximum number of images exceeded: {limit} allowed.")

    async def create(
        self, ctx: RequestContext | None, core: dict[str, Any], props: dict[str, str]
    ) -> ImageRecord:
        image_id = core.pop("id", None) or str(uuid.uuid4())
        tags = core.pop("tags", None) or []
        if "owner" not in core:
            core["owner"] = ctx.project_id if ctx is not None else None
        now = utcnow()
        row = Image(
            id=image_id,
            name=core.get("name"),
            status="queued",
            visibility=core.get("visibility") or "shared",
            protected=bool(core.get("protected", False)),
            os_hidden=bool(core.get("os_hidden", False)),
            owner=core.get("owner"),
            disk_format=core.get("disk_format"),
            container_format=core.get("container_format"),
            min_disk=core.get("min_disk") or 0,
            min_ram=core.get("min_ram") or 0,
            created_at=now,
            updated_at=now,
        )
        async with self.db.session() as s:
            if await s.get(Image, image_id) is not None:
                raise errors.Conflict(f"Image with identifier {image_id} already exists!")
            await self._check_count_quota(s, row.owner)
            s.add(row)
            await s.flush()
            s.add_all(ImageProperty(image_id=image_id, name=k, value=v) for k, v in props.items())
            s.add_all(ImageTag(image_id=image_id, value=t) for t in tags)
            await s.flush()
            record = (await records(s, [row], ctx))[0]
        await self.base.notify("create", image_id)
        return record

    async def update(
        self, ctx: RequestContext | None, image_id: str, ops: Sequence[PatchOp]
    ) -> ImageRecord:
        async with self.db.session() as s:
            row = await visible_row(s, ctx, image_id)
            require_owner(ctx, row)
            props_rows = {
                p.name: p
                for p in await s.scalars(
                    select(ImageProperty).where(ImageProperty.image_id == image_id)
                )
            }
            tags = [
                t.value
                for t in await s.scalars(select(ImageTag).where(ImageTag.image_id == image_id))
            ]
            for op in ops:
                if op.op == "tag-add":
                    tags = schemas.check_tags([*tags, op.value])
                elif op.op == "tag-remove":
                    tags = self._remove_tag(tags, op.attr)
                elif op.attr == "tags":
                    tags = list(op.value)
                elif op.attr in schemas.CORE:
                    self._set_core(row, op.attr, op.value)
                elif op.op == "remove":
                    if op.attr not in props_rows:
                        raise errors.Conflict(f"Property {op.attr} does not exist.")
                    await s.delete(props_rows.pop(op.attr))
                else:
                    if op.op == "replace" and op.attr not in props_rows:
                        raise errors.Conflict(f"Property {op.attr} does not exist.")
                    if op.attr in props_rows:
                        props_rows[op.attr].value = op.value
                    else:
                        props_rows[op.attr] = ImageProperty(
                            image_id=image_id, name=op.attr, value=op.value
                        )
                        s.add(props_rows[op.attr])
            await s.execute(delete(ImageTag).where(ImageTag.image_id == image_id))
            s.add_all(ImageTag(image_id=image_id, value=t) for t in tags)
            row.updated_at = utcnow()
            await s.flush()
            record = (await records(s, [row], ctx))[0]
        await self.base.notify("update", image_id)
        return record

    @staticmethod
    def _remove_tag(tags: Sequence[str], which: str) -> list[str]:
        if which.isdigit() and int(which) < len(tags):
            return [t for i, t in enumerate(tags) if i != int(which)]
        if which in tags:
            return [t for t in tags if t != which]
        raise errors.Conflict(f"Tag {which} does not exist.")

    @staticmethod
    def _set_core(row: Image, attr: str, value: Any) -> None:
        frozen = attr in ("disk_format", "container_format") and row.status != "queued"
        if frozen and getattr(row, attr) != value:
            raise errors.Forbidden(f"Attribute {attr} can be only replaced for a queued image.")
        setattr(row, attr, value)

    async def add_tag(self, ctx: RequestContext | None, image_id: str, tag: str) -> None:
        schemas.check_tags([tag])
        async with self.db.session() as s:
            row = await visible_row(s, ctx, image_id)
            require_owner(ctx, row)
            if await s.get(ImageTag, (image_id, tag)) is None:
                s.add(ImageTag(image_id=image_id, value=tag))
                row.updated_at = utcnow()

    async def remove_tag(self, ctx: RequestContext | None, image_id: str, tag: str) -> None:
        async with self.db.session() as s:
            row = await visible_row(s, ctx, image_id)
            require_owner(ctx, row)
            found = await s.get(ImageTag, (image_id, tag))
            if found is None:
                raise errors.NotFound(f"Tag {tag} not found on image {image_id}.")
            await s.delete(found)
            row.updated_at = utcnow()

    async def set_active(self, ctx: RequestContext | None, image_id: str, active: bool) -> None:
        """Deactivate (active → deactivated) or reactivate (deactivated → active)."""
        want, source = ("active", "deactivated") if active else ("deactivated", "active")
        async with self.db.session() as s:
            row = await visible_row(s, ctx, image_id)
            require_owner(ctx, row, "deactivate" if not active else "reactivate")
            if row.status == want:
                return
            if row.status != source:
                verb = "reactivate" if active else "deactivate"
                raise errors.Forbidden(f"Not allowed to {verb} image in status '{row.status}'")
            await s.execute(
                update(Image)
                .where(Image.id == image_id, Image.status == source)
                .values(status=want, updated_at=utcnow())
            )
        await self.base.notify("activate" if active else "deactivate", image_id)

    async def delete(self, ctx: RequestContext | None, image_id: str) -> None:
        async with self.db.session() as s:
            row = await visible_row(s, ctx, image_id)
            require_owner(ctx, row, "delete")
            if row.protected:
                raise errors.Forbidden(f"Image {image_id} is protected and cannot be deleted.")
            location, store = row.location, row.store
            staged = row.staged
            await s.delete(row)
        if location and store == self.base.store.name:
            await self.base.store.delete(location)
        await asyncio.to_thread(self.base.cache.delete, image_id)
        if staged and staged.get("location"):
            await self.base.staging.delete(staged["location"])
        await self.base.notify("delete", image_id)
