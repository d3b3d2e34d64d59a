"""Network flavors and service profiles (Neutron's flavors extension): the API and its state.

A flavor names a service type and the profiles that could serve it. No resource here takes a
``flavor_id`` yet (routers are all OneStack's own L3), so a flavor is a catalogue entry: it is
stored, listed, associated and validated as Neutron does, and steers nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.network import models
from onestack.network.service.base import Caller, NetworkContext

# The service types a flavor may name: as Neutron, those of the service plugins loaded
# (neutron_lib's plugin constants for what this cloud serves).
SERVICE_TYPES = ("L3_ROUTER_NAT", "FLAVORS", "METERING", "QOS")


class FlavorNotFound(errors.NotFound):
    template = "Flavor {id} could not be found."


class ServiceProfileNotFound(errors.NotFound):
    template = "Service Profile {id} could not be found."


class ServiceProfileInUse(errors.Conflict):
    template = "Service Profile {sp_id} is used by some service instance."


class ServiceProfileEmpty(errors.BadRequest):
    template = "Service Profile needs either a driver or metainfo."


class InvalidFlavorServiceType(errors.BadRequest):
    template = "Service type {service_type} is not supported."


class FlavorServiceProfileBindingExists(errors.Conflict):
    template = "Service Profile {sp_id} is already associated with flavor {fl_id}."


class FlavorServiceProfileBindingNotFound(errors.NotFound):
    template = "Service Profile {sp_id} is not associated with flavor {fl_id}."


async def profiles_of(session: AsyncSession, flavor_ids: Sequence[str]) -> dict[str, list[str]]:
    B = models.FlavorServiceProfile
    found: dict[str, list[str]] = {f: [] for f in flavor_ids}
    if flavor_ids:
        rows = await session.execute(
            select(B.flavor_id, B.service_profile_id)
            .where(B.flavor_id.in_(list(flavor_ids)))
            .order_by(B.service_profile_id)
        )
        for flavor_id, profile_id in rows:
            found[flavor_id].append(profile_id)
    return found


async def render_flavors(
    session: AsyncSession, rows: Sequence[models.Flavor]
) -> list[dict[str, Any]]:
    profiles = await profiles_of(session, [r.id for r in rows])
    return [
        {
            "id": r.id,
            "name": r.name,
            "description": r.description,
            "service_type": r.service_type,
            "service_profiles": profiles[r.id],
            "enabled": r.enabled,
        }
        for r in rows
    ]


def render_profile(r: models.ServiceProfile) -> dict[str, Any]:
    return {
        "id": r.id,
        "description": r.description,
        "driver": r.driver,
        "metainfo": r.metainfo,
        "enabled": r.enabled,
    }


class Flavors:
    def __init__(self, ctx: NetworkContext) -> None:
        self.ctx = ctx

    @staticmethod
    async def _flavor(session: AsyncSession, flavor_id: str) -> models.Flavor:
        row = await session.get(models.Flavor, flavor_id)
        if row is None:
            raise FlavorNotFound(id=flavor_id)
        return row

    @staticmethod
    async def _profile(session: AsyncSession, profile_id: str) -> models.ServiceProfile:
        row = await session.get(models.ServiceProfile, profile_id)
        if row is None:
            raise ServiceProfileNotFound(id=profile_id)
        return row

    async def _set_profiles(
        self, session: AsyncSession, flavor_id: str, profile_ids: Sequence[str]
    ) -> None:
        for profile_id in dict.fromkeys(profile_ids):
            await self._profile(session, str(profile_id))
        await session.execute(
            delete(models.FlavorServiceProfile).where(
                models.FlavorServiceProfile.flavor_id == flavor_id
            )
        )
        for profile_id in dict.fromkeys(profile_ids):
            session.add(
                models.FlavorServiceProfile(flavor_id=flavor_id, service_profile_id=profile_id)
            )

    async def create(self, caller: Caller, body: dict[str, Any]) -> models.Flavor:
        if body["service_type"] not in SERVICE_TYPES:
            raise InvalidFlavorServiceType(service_type=body["service_type"])
        async with self.ctx.db.session() as session:
            row = models.Flavor(
                id=models.uuid_str(),
                name=body.get("name", ""),
                description=body.get("description", ""),
                service_type=body["service_type"],
                enabled=body.get("enabled", True),
            )
            session.add(row)
            await session.flush()
            await self._set_profiles(session, row.id, body.get("service_profiles") or [])
        return row

    async def update(
        self, caller: Caller, flavor_id: str, changes: dict[str, Any]
    ) -> models.Flavor:
        async with self.ctx.db.session() as session:
            row = await self._flavor(session, flavor_id)
            if "service_profiles" in changes:
                await self._set_profiles(session, row.id, changes.pop("service_profiles") or [])
            for key, value in changes.items():
                setattr(row, key, value)
        return row

    async def delete(self, caller: Caller, flavor_id: str) -> None:
        async with self.ctx.db.session() as session:
            await session.delete(await self._flavor(session, flavor_id))

    async def create_profile(self, caller: Caller, body: dict[str, Any]) -> models.ServiceProfile:
        if not body.get("driver") and not body.get("metainfo"):
            raise ServiceProfileEmpty()
        async with self.ctx.db.session() as session:
            row = models.ServiceProfile(
                id=models.uuid_str(),
                description=body.get("description", ""),
                driver=body.get("driver", ""),
                metainfo=body.get("metainfo", ""),
                enabled=body.get("enabled", True),
            )
            session.add(row)
        return row

    async def update_profile(
        self, caller: Caller, profile_id: str, changes: dict[str, Any]
    ) -> models.ServiceProfile:
        async with self.ctx.db.session() as session:
            row = await self._profile(session, profile_id)
            for key, value in changes.items():
                setattr(row, key, value)
            if not row.driver and not row.metainfo:
                raise ServiceProfileEmpty()
        return row

    async def delete_profile(self, caller: Caller, profile_id: str) -> None:
        async with self.ctx.db.session() as session:
            row = await self._profile(session, profile_id)
            used = await session.scalar(
                select(models.FlavorServiceProfile.flavor_id).where(
                    models.FlavorServiceProfile.service_profile_id == profile_id
                )
            )
            if used is not None:
                raise ServiceProfileInUse(sp_id=profile_id)
            await session.delete(row)

    async def associate(self, flavor_id: str, profile_id: str) -> None:
        async with self.ctx.db.session() as session:
            await self._flavor(session, flavor_id)
            await self._profile(session, profile_id)
            if await session.get(models.FlavorServiceProfile, (flavor_id, profile_id)):
                raise FlavorServiceProfileBindingExists(sp_id=profile_id, fl_id=flavor_id)
            session.add(
                models.FlavorServiceProfile(flavor_id=flavor_id, service_profile_id=profile_id)
            )

    async def disassociate(self, flavor_id: str, profile_id: str) -> None:
        async with self.ctx.db.session() as session:
            await self._flavor(session, flavor_id)
            row = await session.get(models.FlavorServiceProfile, (flavor_id, profile_id))
            if row is None:
                raise FlavorServiceProfileBindingNotFound(sp_id=profile_id, fl_id=flavor_id)
            await session.delete(row)
