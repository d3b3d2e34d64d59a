"""Volumes: create (scheduled onto a pool, made by the pool's host agent), list, show,
update, delete, metadata."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy import Select, func, select

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.pagination import PageParams, apply_page
from onestack.volume import errors as verr
from onestack.volume.models import Attachment, DefaultType, Snapshot, Volume, VolumeType
from onestack.volume.service import messages
from onestack.volume.service.base import (
    VolumeContext,
    host_of,
    is_admin,
    now,
    start_deleting,
    valid_uuid,
    visible_volume,
    volume_event,
    volume_topic,
)
from onestack.volume.service.pools import NoValidBackend, Pools
from onestack.volume.service.quotas import Quotas
from onestack.volume.service.snapshots import visible_snapshot
from onestack.volume.service.types import find_type

DELETABLE = ("available", "error", "error_restoring", "error_extending", "error_managing")
GiB = 1024**3
SORT_KEYS = ("id", "name", "status", "size", "created_at", "updated_at", "availability_zone",
             "bootable", "project_id", "user_id")  # fmt: skip


@dataclass(frozen=True)
class CreateRequest:
    size: int | None
    name: str | None = None
    description: str | None = None
    volume_type: str | None = None
    availability_zone: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    snapshot_id: str | None = None
    source_volid: str | None = None
    image_id: str | None = None
    multiattach: bool = False


@dataclass(frozen=True)
class ListQuery:
    page: PageParams
    all_projects: bool = False
    project_id: str | None = None
    filters: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, str] = field(default_factory=dict)
    with_count: bool = False
    offset: int = 0


class ListedVolume(NamedTuple):
    """A volume as a list loads it: the columns its view reads, named as the ORM attributes.
    Plain rows, not ORM objects: building 1,000 of those took more than a third of a detailed
    list's time."""

    id: str
    status: str
    size: int
    availability_zone: str
    created_at: datetime
    updated_at: datetime | None
    name: str | None
    description: str | None
    volume_type_id: str
    snapshot_id: str | None
    source_volid: str | None
    meta: dict[str, str]
    user_id: str
    bootable: bool
    multiattach: bool
    migration_status: str | None
    project_id: str
    host: str | None
    image_metadata: dict[str, str] | None


LISTED_COLUMNS = tuple(getattr(Volume, name) for name in ListedVolume._fields)
R = TypeVar("R", Volume, ListedVolume)


@dataclass
class Loaded(Generic[R]):
    """Volumes with what their views show beside their rows."""

    rows: list[R]
    types: dict[str, VolumeType]
    attachments: dict[str, list[Attachment]]
    count: int | None = None


class Volumes:
    def __init__(self, context: VolumeContext, pools: Pools, quotas: Quotas) -> None:
        self.context = context
        self.pools = pools
        self.quotas = quotas

    async def create(
        self, ctx: RequestContext, req: CreateRequest, *, for_restore: bool = False
    ) -> Loaded[Volume]:
        """A new volume, made by its pool's agent (``for_restore``: left for a backup's
        restore to fill, ``restoring-backup``)."""
        project = ctx.project_id or ""
        # What other services and other transactions answer comes first: the write below
        # holds one connection and the project's quota lock, and waits for nothing else (a
        # second session opened under it exhausted the pool under concurrent creates).
        image_meta, image_gb = await self._image(ctx, req)
        zone = req.availability_zone or self.context.settings.availability_zone
        if req.availability_zone and req.availability_zone not in [
            z for z, _ in await self.pools.zones()
        ]:
            raise verr.InvalidInput(reason=f"Availability zone '{zone}' is invalid.")
        async with self.context.db.session() as s:
            await self.quotas.lock(s, project)
            vtype = await self._type(s, ctx, req.volume_type)
            size = await self._source_size(s, ctx, req, image_gb)
            bootable = image_meta is not None
            origin = await self._origin(s, req)
            if origin is not None:  # a clone, or from a snapshot: bootable as its source
                bootable, image_meta = origin.bootable, origin.image_metadata
            multiattach = req.multiattach or vtype.extra_specs.get("multiattach") == "<is> True"
            await self.quotas.check(s, project, vtype.name, {"volumes": 1, "gigabytes": size})
            row = Volume(
                id=str(uuid.uuid4()), project_id=project, user_id=ctx.user_id, name=req.name,
                description=req.description, size=size, status="creating",
                availability_zone=zone, volume_type_id=vtype.id, multiattach=multiattach,
                snapshot_id=req.snapshot_id, source_volid=req.source_volid,
                image_id=req.image_id, meta=dict(req.metadata), created_at=now(),
                updated_at=now(), image_metadata=image_meta, bootable=bootable,
            )  # fmt: skip
            # Placed before the row is written: its host goes in with the INSERT (an UPDATE
            # after it cost every create a statement).
            try:
                pool = await self.pools.place(
                    s, size, zone, vtype.extra_specs.get("volume_backend_name"),
                    dict(vtype.extra_specs),
                )  # fmt: skip
                row.host = pool.name
            except NoValidBackend:
                row.status = "error"
            s.add(row)
            if row.status == "error":
                await messages.record(
                    s, project, row.id, messages.SCHEDULE_ALLOCATE, messages.NO_BACKEND,
                    ctx.request_id,
                )  # fmt: skip
        if for_restore and row.status == "creating":
            await self.update(ctx, row.id, {"status": "restoring-backup"})
            row.status = "restoring-backup"
        elif row.host is not None:
            await self.context.bus.cast(
                volume_topic(host_of(row.host)), "create_volume", self._create_payload(row)
            )
        await self.context.notify("create.start", volume_event(row, vtype.name))
        return Loaded([row], {vtype.id: vtype}, {row.id: []})

    async def image_snapshot(self, ctx: RequestContext, image_id: str) -> str | None:
        """3.46: the snapshot whose data an image made by Nova's snapshot of a volume-backed
        server stands for (its ``block_device_mapping`` root, ``source_type`` snapshot); a
        volume from such an image is a volume from that snapshot. None for a plain image."""
        images = self.context.image
        if images is None:
            return None
        try:
            image = await images.get_image(ctx, image_id)
        except errors.NotFound:
            return None  # the image's own check says so
        raw = (image.properties or {}).get("block_device_mapping")
        try:
            bdms = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            return None
        if not isinstance(bdms, list):
            return None
        root = [b for b in bdms if isinstance(b, dict) and b.get("source_type") == "snapshot"
                and str(b.get("boot_index")) == "0"]  # fmt: skip
        if not root:
            return None
        snapshot_id = str(root[0].get("snapshot_id"))
        async with self.context.db.session() as s:
            try:
                await visible_snapshot(s, ctx, snapshot_id)
            except errors.NotFound:
                raise errors.NotFound(
                    "Nova specific image is found, but boot volume snapshot "
                    f"id:{snapshot_id} not found."
                ) from None
        return snapshot_id

    @staticmethod
    async def _origin(s: Any, req: CreateRequest) -> Volume | None:
        """The volume a clone or a volume from a snapshot comes from (Cinder copies its
        bootable flag and image metadata)."""
        if req.source_volid is not None:
            found: Volume | None = await s.get(Volume, req.source_volid)
            return found
        if req.snapshot_id is not None:
            snap = await s.get(Snapshot, req.snapshot_id)
            return await s.get(Volume, snap.volume_id) if snap is not None else None
        return None

    async def _type(self, s: Any, ctx: RequestContext, ref: str | None) -> VolumeType:
        """The type asked for, else the project's default (3.62), else the configured one."""
        if ref is None and ctx.project_id:
            own = await s.get(DefaultType, ctx.project_id)
            ref = own.volume_type_id if own is not None else None
        return await find_type(
            s, ctx if ref else None, ref or self.context.settings.default_volume_type
        )

    async def reimage(
        self, ctx: RequestContext | None, volume_id: str, image_id: str, *, reserved: bool = False
    ) -> None:
        """Cinder's ``os-reimage`` (3.68): the volume's data replaced by the image's, by its
        pool's agent (``downloading`` until it is done); ``reserved``: the volume may be
        in use, as Nova's rebuild of a volume-backed server asks while its guest is off."""
        image_meta, need = await self._image(ctx, CreateRequest(size=None, image_id=image_id))
        allowed = ("available", "error", "in-use") if reserved else ("available", "error")
        async with self.context.db.session() as s:
            row = await visible_volume(s, ctx, volume_id)
            if row.status not in allowed:
                raise verr.InvalidVolume(
                    reason=f"Volume status must be {', '.join(allowed)}, not {row.status}."
                )
            if row.size < need:
                raise verr.InvalidInput(
                    reason=f"Image {image_id} needs a volume of at least {need}GB; the "
                    f"volume has {row.size}GB."
                )
            row.previous_status, row.status = row.status, "downloading"
            row.image_id, row.image_metadata, row.bootable = image_id, image_meta, True
            row.updated_at = now()
            host = row.host
        await self.context.bus.cast(
            volume_topic(host_of(host or "")), "reimage_volume", {"id": volume_id}
        )

    def _create_payload(self, row: Volume) -> dict[str, Any]:
        return {
            "id": row.id,
            "size": row.size,
            "snapshot_id": row.snapshot_id,
            "source_volid": row.source_volid,
            "image_id": row.image_id,
        }

    async def _image(
        self, ctx: RequestContext | None, req: CreateRequest
    ) -> tuple[dict[str, str] | None, int]:
        """The image's metadata a volume made from it carries, and the GiB it needs."""
        if req.image_id is None:
            return None, 0
        images = self.context.image
        if images is None:
            raise errors.BadRequest("The image service is not running in this cloud.")
        try:
            image = await images.get_image(ctx, req.image_id)
        except errors.NotFound:
            raise verr.InvalidInput(
                reason="Invalid image identifier or unable to access requested image."
            ) from None
        if image.status != "active":
            raise verr.InvalidInput(reason=f"Image {image.id} is not active.")
        need = math.ceil(max(image.virtual_size or 0, image.size or 0) / GiB)
        if req.size is not None and req.size < max(need, image.min_disk):
            raise verr.InvalidInput(
                reason=f"Image {image.id} needs a volume of at least "
                f"{max(need, image.min_disk)}GB; {req.size}GB was asked for."
            )
        meta = {
            "image_id": image.id, "image_name": image.name or "",
            "checksum": image.checksum or "", "container_format": image.container_format or "",
            "disk_format": image.disk_format or "", "min_disk": str(image.min_disk),
            "min_ram": str(image.min_ram), "size": str(image.size or 0),
            **image.properties,
        }  # fmt: skip
        return meta, max(need, image.min_disk, 1)

    async def _source_size(
        self, s: Any, ctx: RequestContext, req: CreateRequest, image_gb: int = 0
    ) -> int:
        size = req.size if req.size is not None else (image_gb or None)
        if req.snapshot_id is not None:
            snap = await s.get(Snapshot, req.snapshot_id)
            if snap is None or (not is_admin(ctx) and snap.project_id != ctx.project_id):
                raise verr.SnapshotNotFound(id=req.snapshot_id)
            if snap.status != "available":
                raise errors.BadRequest(
                    "Invalid snapshot: Originating snapshot status must be one of "
                    "'available' values"
                )
            size = size if size is not None else snap.size
            if size < snap.size:
                raise verr.InvalidInput(
                    reason="Volume size cannot be lesser than the snapshot size"
                )
        if req.source_volid is not None:
            src = await visible_volume(s, ctx, req.source_volid)
            if src.status not in ("available", "in-use"):
                raise verr.InvalidVolume(reason="Volume status must be available or in-use.")
            size = size if size is not None else src.size
            if size < src.size:
                raise verr.InvalidInput(reason="Clones currently must be >= original volume size.")
        if size is None:
            raise verr.InvalidInput(reason="Volume size must be specified.")
        if size <= 0:
            raise verr.InvalidInput(
                reason=f"Volume size '{size}' must be an integer and greater than 0"
            )
        return size

    # --- reading ------------------------------------------------------------------------

    async def get(self, ctx: RequestContext | None, volume_id: str) -> Loaded[Volume]:
        """The volume with its type and attachments, read by one statement (three, one for
        each, were most of a show's time; clients poll a volume's show)."""
        if not valid_uuid(volume_id):
            raise verr.VolumeNotFound(id=volume_id)
        stmt = (
            select(Volume, VolumeType, Attachment)
            .outerjoin(VolumeType, VolumeType.id == Volume.volume_type_id)
            .outerjoin(Attachment, Attachment.volume_id == Volume.id)
            .where(Volume.id == volume_id)
            .order_by(Attachment.created_at)
        )
        if not is_admin(ctx):
            assert ctx is not None
            stmt = stmt.where(Volume.project_id == (ctx.project_id or ""))
        async with self.context.db.session() as s:
            found = (await s.execute(stmt)).all()
        if not found:
            raise verr.VolumeNotFound(id=volume_id)
        row, vtype = found[0][0], found[0][1]
        types = {vtype.id: vtype} if vtype is not None else {}
        return Loaded([row], types, {row.id: [a for _, _, a in found if a is not None]})

    async def row(self, volume_id: str) -> Volume | None:
        """The volume's row alone, whatever its project (an agent's look-up: no types or
        attachments to load beside it)."""
        if not valid_uuid(volume_id):
            return None
        async with self.context.db.session() as s:
            found: Volume | None = await s.get(Volume, volume_id)
            return found

    async def _load(self, s: Any, rows: list[R], count: int | None = None) -> Loaded[R]:
        ids = [r.id for r in rows]
        types = {
            t.id: t
            for t in await s.scalars(
                select(VolumeType).where(VolumeType.id.in_({r.volume_type_id for r in rows}))
            )
        }
        atts: dict[str, list[Attachment]] = {i: [] for i in ids}
        if ids:
            for a in await s.scalars(
                select(Attachment)
                .where(Attachment.volume_id.in_(ids))
                .order_by(Attachment.created_at)
            ):
                atts[a.volume_id].append(a)
        return Loaded(rows, types, atts, count)

    def _filtered(
        self, ctx: RequestContext, q: ListQuery, columns: tuple[Any, ...] = (Volume,)
    ) -> Select[Any]:
        stmt = select(*columns)
        if not (is_admin(ctx) and q.all_projects):
            stmt = stmt.where(Volume.project_id == (ctx.project_id or ""))
        elif q.project_id:
            stmt = stmt.where(Volume.project_id == q.project_id)
        for key, value in q.filters.items():
            stmt = stmt.where(getattr(Volume, key) == value)
        for key, value in q.metadata.items():
            stmt = stmt.where(Volume.meta[key].as_string() == value)
        return stmt

    async def listing(self, ctx: RequestContext, q: ListQuery) -> Loaded[ListedVolume]:
        stmt = self._filtered(ctx, q, LISTED_COLUMNS)
        async with self.context.db.session() as s:
            count = None
            if q.with_count:
                count = await s.scalar(select(func.count()).select_from(stmt.subquery()))
            marker = None
            if q.page.marker:
                marker = await s.scalar(self._filtered(ctx, q).where(Volume.id == q.page.marker))
                if marker is None:
                    raise errors.BadRequest(f"Marker {q.page.marker} could not be found.")
            stmt = apply_page(stmt, Volume, q.page, marker)
            if q.offset:
                stmt = stmt.offset(q.offset)
            rows = [ListedVolume._make(r) for r in await s.execute(stmt)]
            return await self._load(s, rows, count)

    async def summary(
        self, ctx: RequestContext, all_projects: bool
    ) -> tuple[int, int, dict[str, list[str]]]:
        q = ListQuery(page=PageParams(None, None, ()), all_projects=all_projects)
        async with self.context.db.session() as s:
            rows = list(await s.scalars(self._filtered(ctx, q)))
        meta: dict[str, list[str]] = {}
        for r in rows:
            for k, v in r.meta.items():
                if v not in meta.setdefault(k, []):
                    meta[k].append(v)
        return len(rows), sum(r.size for r in rows), meta

    # --- changing -----------------------------------------------------------------------

    async def update(
        self, ctx: RequestContext, volume_id: str, changes: dict[str, Any]
    ) -> Loaded[Volume]:
        async with self.context.db.session() as s:
            row = await visible_volume(s, ctx, volume_id)
            for key, value in changes.items():
                setattr(row, key, value)
            row.updated_at = now()
            return await self._load(s, [row])

    async def delete(
        self,
        ctx: RequestContext | None,
        volume_id: str,
        *,
        force: bool = False,
        cascade: bool = False,
        check: Callable[[Volume], None] | None = None,
    ) -> None:
        """``check``: the caller's policy check of the volume, raising to refuse (in this
        transaction: the API needs no read of its own first)."""
        async with self.context.db.session() as s:
            row = await visible_volume(s, ctx, volume_id)
            if check is not None:
                check(row)
            attached = await s.scalar(
                select(func.count()).select_from(Attachment).where(Attachment.volume_id == row.id)
            )
            snaps = list(await s.scalars(select(Snapshot).where(Snapshot.volume_id == row.id)))
            invalid = verr.InvalidVolume(
                reason="Volume status must be available or error or error_restoring "
                "or error_extending or error_managing and must not be migrating, "
                "attached, belong to a group, have snapshots, awaiting a transfer, or "
                "be disassociated from snapshots after volume transfer."
            )
            if not force:
                if row.status not in DELETABLE or attached:
                    raise invalid
                if snaps and not cascade:
                    raise verr.InvalidVolume(reason="Volume still has 1 dependent snapshots.")
            await start_deleting(s, Volume, row.id, row.status, invalid)
            host = row.host
            if host is None:  # never scheduled: nothing on any backend
                await s.delete(row)
        if host is not None:
            await self.context.bus.cast(
                volume_topic(host_of(host)),
                "delete_volume",
                {"id": volume_id, "snapshots": [x.id for x in snaps]},
            )

    # --- metadata -----------------------------------------------------------------------

    async def metadata(self, ctx: RequestContext, volume_id: str) -> dict[str, str]:
        async with self.context.db.session() as s:
            return dict((await visible_volume(s, ctx, volume_id)).meta)

    async def set_metadata(
        self, ctx: RequestContext, volume_id: str, items: dict[str, str], *, replace: bool
    ) -> dict[str, str]:
        async with self.context.db.session() as s:
            row = await visible_volume(s, ctx, volume_id)
            if row.status == "maintenance":
                raise verr.InvalidVolume(reason="Volume is in maintenance.")
            row.meta = dict(items) if replace else {**row.meta, **items}
            row.updated_at = now()
            return dict(row.meta)

    async def delete_metadata(self, ctx: RequestContext, volume_id: str, key: str) -> None:
        async with self.context.db.session() as s:
            row = await visible_volume(s, ctx, volume_id)
            if key not in row.meta:
                raise errors.NotFound(f"Volume {volume_id} has no metadata with key {key}.")
            row.meta = {k: v for k, v in row.meta.items() if k != key}
            row.updated_at = now()
