"""Volume transfers: a project offers a volume; another accepts it with the transfer's id and
auth key, and the volume (with its snapshots, unless ``no_snapshots``) becomes its own."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from sqlalchemy import select

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.volume import errors as verr
from onestack.volume.models import Snapshot, Transfer, Volume, VolumeType
from onestack.volume.service.base import VolumeContext, is_admin, now, valid_uuid, visible_volume
from onestack.volume.service.quotas import Quotas


def digest(salt: str, key: str) -> str:
    return hashlib.sha256(f"{salt}{key}".encode()).hexdigest()


class TransferNotFound(errors.NotFound):
    template = "Transfer {id} could not be found."


class Transfers:
    def __init__(self, context: VolumeContext, quotas: Quotas) -> None:
        self.context = context
        self.quotas = quotas

    async def create(
        self, ctx: RequestContext, volume_id: str, name: str | None, no_snapshots: bool
    ) -> tuple[Transfer, str]:
        async with self.context.db.session() as s:
            vol = await visible_volume(s, ctx, volume_id)
            if vol.status != "available":
                raise verr.InvalidVolume(reason="status must be available")
            key = secrets.token_hex(8)
            salt = secrets.token_hex(8)
            row = Transfer(
                id=str(uuid.uuid4()), volume_id=vol.id, name=name, salt=salt,
                crypt_hash=digest(salt, key), source_project_id=vol.project_id,
                accepted=False, no_snapshots=no_snapshots, created_at=now(),
            )  # fmt: skip
            s.add(row)
            vol.status = "awaiting-transfer"
            vol.updated_at = now()
        return row, key

    async def _visible(self, s: object, ctx: RequestContext, transfer_id: str) -> Transfer:
        row = await s.get(Transfer, transfer_id) if valid_uuid(transfer_id) else None  # type: ignore[attr-defined]
        if (
            row is None
            or row.accepted
            or (not is_admin(ctx) and row.source_project_id != ctx.project_id)
        ):
            raise TransferNotFound(id=transfer_id)
        assert isinstance(row, Transfer)
        return row

    async def get(self, ctx: RequestContext, transfer_id: str) -> Transfer:
        async with self.context.db.session() as s:
            return await self._visible(s, ctx, transfer_id)

    async def listing(self, ctx: RequestContext, all_projects: bool) -> list[Transfer]:
        stmt = select(Transfer).where(Transfer.accepted.is_(False)).order_by(Transfer.created_at)
        if not (is_admin(ctx) and all_projects):
            stmt = stmt.where(Transfer.source_project_id == (ctx.project_id or ""))
        async with self.context.db.session() as s:
            return list(await s.scalars(stmt))

    async def delete(self, ctx: RequestContext, transfer_id: str) -> None:
        async with self.context.db.session() as s:
            row = await self._visible(s, ctx, transfer_id)
            vol = await s.get(Volume, row.volume_id)
            if vol is not None and vol.status == "awaiting-transfer":
                vol.status = "available"
                vol.updated_at = now()
            await s.delete(row)

    async def accept(self, ctx: RequestContext, transfer_id: str, auth_key: str) -> Transfer:
        project = ctx.project_id or ""
        async with self.context.db.session() as s:
            await self.quotas.lock(s, project)
            row = await s.get(Transfer, transfer_id) if valid_uuid(transfer_id) else None
            if row is None or row.accepted:
                raise TransferNotFound(id=transfer_id)
            if not secrets.compare_digest(digest(row.salt, auth_key), row.crypt_hash):
                raise errors.BadRequest(
                    f"Invalid auth key: Attempt to transfer {row.volume_id} with invalid auth key."
                )
            vol = await s.get(Volume, row.volume_id)
            if vol is None or vol.status != "awaiting-transfer":
                raise verr.InvalidVolume(reason="Transfer is not in awaiting-transfer state")
            snaps = (
                []
                if row.no_snapshots
                else list(await s.scalars(select(Snapshot).where(Snapshot.volume_id == vol.id)))
            )
            vtype = await s.get(VolumeType, vol.volume_type_id)
            type_name = vtype.name if vtype is not None else ""
            gigabytes = vol.size + sum(x.size for x in snaps)
            deltas = {"volumes": 1, "gigabytes": gigabytes, "snapshots": len(snaps)}
            await self.quotas.check(s, project, type_name, deltas)
            vol.project_id = project
            vol.user_id = ctx.user_id
            vol.status = "available"
            vol.updated_at = now()
            for snap in snaps:
                snap.project_id = project
                snap.user_id = ctx.user_id
            row.accepted = True
            row.destination_project_id = project
        await self.context.notify("transfer.accept.end", {"volume_id": row.volume_id})
        return row
