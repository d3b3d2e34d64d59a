"""QoS specs: named limits associated with volume types; the ``front-end`` (or ``both``) ones
reach the hypervisor when a volume of such a type is attached."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from onestack.common import errors
from onestack.volume.models import QosSpecs, VolumeType
from onestack.volume.service.base import VolumeContext, valid_uuid
from onestack.volume.service.types import find_type

CONSUMERS = ("front-end", "back-end", "both")


class QosNotFound(errors.NotFound):
    template = "QoS spec {id} could not be found."


class Qos:
    def __init__(self, context: VolumeContext) -> None:
        self.context = context

    async def _get(self, s: object, qos_id: str) -> QosSpecs:
        row = await s.get(QosSpecs, qos_id) if valid_uuid(qos_id) else None  # type: ignore[attr-defined]
        if not isinstance(row, QosSpecs):
            raise QosNotFound(id=qos_id)
        return row

    async def create(self, name: str, consumer: str, specs: dict[str, str]) -> QosSpecs:
        if consumer not in CONSUMERS:
            raise errors.BadRequest(
                f"Invalid consumer {consumer!r}: one of {', '.join(CONSUMERS)}."
            )
        async with self.context.db.session() as s:
            if await s.scalar(select(QosSpecs).where(QosSpecs.name == name)) is not None:
                raise errors.Conflict(f"QoS Specs {name} already exists.")
            row = QosSpecs(id=str(uuid.uuid4()), name=name, consumer=consumer, specs=specs)
            s.add(row)
            return row

    async def listing(self) -> list[QosSpecs]:
        async with self.context.db.session() as s:
            return list(await s.scalars(select(QosSpecs).order_by(QosSpecs.name)))

    async def get(self, qos_id: str) -> QosSpecs:
        async with self.context.db.session() as s:
            return await self._get(s, qos_id)

    async def update(self, qos_id: str, specs: dict[str, str]) -> None:
        async with self.context.db.session() as s:
            row = await self._get(s, qos_id)
            if "consumer" in specs:
                consumer = specs.pop("consumer")
                if consumer not in CONSUMERS:
                    raise errors.BadRequest(f"Invalid consumer {consumer!r}.")
                row.consumer = consumer
            row.specs = {**row.specs, **specs}

    async def delete_keys(self, qos_id: str, keys: list[str]) -> None:
        async with self.context.db.session() as s:
            row = await self._get(s, qos_id)
            missing = [k for k in keys if k not in row.specs]
            if missing:
                raise errors.NotFound(f"QoS spec {qos_id} has no key {missing[0]}.")
            row.specs = {k: v for k, v in row.specs.items() if k not in keys}

    async def types_of(self, qos_id: str) -> list[VolumeType]:
        async with self.context.db.session() as s:
            await self._get(s, qos_id)
            return list(
                await s.scalars(select(VolumeType).where(VolumeType.qos_specs_id == qos_id))
            )

    async def delete(self, qos_id: str, force: bool) -> None:
        async with self.context.db.session() as s:
            row = await self._get(s, qos_id)
            types = list(
                await s.scalars(select(VolumeType).where(VolumeType.qos_specs_id == qos_id))
            )
            if types and not force:
                raise errors.BadRequest(f"QoS Specs {qos_id} is still associated with entities.")
            for t in types:
                t.qos_specs_id = None
            await s.delete(row)

    async def associate(self, qos_id: str, type_id: str, on: bool) -> None:
        async with self.context.db.session() as s:
            await self._get(s, qos_id)
            vtype = await find_type(s, None, type_id)
            if on and vtype.qos_specs_id not in (None, qos_id):
                raise errors.BadRequest(
                    f"Type {type_id} is already associated with another qos specs: "
                    f"{vtype.qos_specs_id}"
                )
            vtype.qos_specs_id = qos_id if on else None

    async def disassociate_all(self, qos_id: str) -> None:
        async with self.context.db.session() as s:
            await self._get(s, qos_id)
            for t in await s.scalars(select(VolumeType).where(VolumeType.qos_specs_id == qos_id)):
                t.qos_specs_id = None

    async def front_end(self, volume_type_id: str) -> dict[str, str]:
        """The limits the hypervisor applies to a volume of this type."""
        async with self.context.db.session() as s:
            vtype = await s.get(VolumeType, volume_type_id)
            if vtype is None or vtype.qos_specs_id is None:
                return {}
            row = await s.get(QosSpecs, vtype.qos_specs_id)
            if row is None or row.consumer == "back-end":
                return {}
            return dict(row.specs)
