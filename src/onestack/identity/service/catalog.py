"""Services, endpoints and regions, and the catalog built from them (cached in memory)."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.identity import models as m
from onestack.identity.service.base import Store, apply_changes, must_get

SERVICE_COLUMNS = {"type", "name", "description", "enabled"}
ENDPOINT_COLUMNS = {"service_id", "interface", "region_id", "url", "enabled"}
REGION_COLUMNS = {"description", "parent_region_id"}
INTERFACES = ("public", "internal", "admin")
CATALOG_TTL = 5.0
# Keystone's endpoint templates: $(project_id)s (or %(tenant_id)s...) filled per token.
_TEMPLATE = re.compile(r"[$%]\((\w+)\)s")


def fill_url(url: str, values: dict[str, str | None]) -> str | None:
    """The URL with its template variables filled, or None when the token lacks one."""
    missing = False

    def repl(match: re.Match[str]) -> str:
        nonlocal missing
        value = values.get(match.group(1))
        if value is None:
            missing = True
            return ""
        return value

    filled = _TEMPLATE.sub(repl, url)
    return None if missing else filled


class Catalog:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._cached: list[dict[str, Any]] | None = None
        self._cached_at = 0.0
        self._templated = False

    def invalidate(self) -> None:
        self._cached = None

    async def catalog(self, project_id: str | None, user_id: str) -> list[dict[str, Any]]:
        """The catalog of a token: enabled services and endpoints, templates filled in;
        an endpoint that needs a project is left out of a token without one (as Keystone)."""
        raw = await self._raw_catalog()
        if not self._templated:
            return raw
        values = {"project_id": project_id, "tenant_id": project_id, "user_id": user_id}
        return [
            {
                **svc,
                "endpoints": [
                    {**ep, "url": url}
                    for ep in svc["endpoints"]
                    if (url := fill_url(ep["url"], values)) is not None
                ],
            }
            for svc in raw
        ]

    async def _raw_catalog(self) -> list[dict[str, Any]]:
        if self._cached is not None and time.monotonic() - self._cached_at < CATALOG_TTL:
            return self._cached
        async with self.store.db.session() as s:
            services = (await s.scalars(select(m.Service).where(m.Service.enabled.is_(True)))).all()
            endpoints = (
                await s.scalars(select(m.Endpoint).where(m.Endpoint.enabled.is_(True)))
            ).all()
        by_service: dict[str, list[dict[str, Any]]] = {}
        for ep in endpoints:
            by_service.setdefault(ep.service_id, []).append(
                {
                    "id": ep.id,
                    "interface": ep.interface,
                    "region": ep.region_id,
                    "region_id": ep.region_id,
                    "url": ep.url,
                }
            )
        self._cached = [
            {
                "endpoints": by_service.get(svc.id, []),
                "id": svc.id,
                "type": svc.type,
                "name": svc.name or "",
            }
            for svc in sorted(services, key=lambda x: x.type)
        ]
        self._templated = any(_TEMPLATE.search(ep.url) for ep in endpoints)
        self._cached_at = time.monotonic()
        return self._cached

    # --- services --------------------------------------------------------------------------
    async def create_service(self, values: dict[str, Any]) -> m.Service:
        async with self.store.db.session() as s:
            svc = m.Service(id=m.new_id(), extra={})
            apply_changes(svc, values, SERVICE_COLUMNS)
            s.add(svc)
        self.invalidate()
        return svc

    async def get_service(self, service_id: str) -> m.Service:
        async with self.store.db.session() as s:
            return await must_get(s, m.Service, service_id, "service")

    async def list_services(self, filters: dict[str, Any]) -> Sequence[m.Service]:
        stmt = select(m.Service).order_by(m.Service.type)
        for key in ("type", "name"):
            if key in filters:
                stmt = stmt.where(getattr(m.Service, key) == filters[key])
        async with self.store.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def update_service(self, service_id: str, changes: dict[str, Any]) -> m.Service:
        async with self.store.db.session() as s:
            svc = await must_get(s, m.Service, service_id, "service")
            apply_changes(svc, changes, SERVICE_COLUMNS)
        self.invalidate()
        return svc

    async def delete_service(self, service_id: str) -> None:
        async with self.store.db.session() as s:
            svc = await must_get(s, m.Service, service_id, "service")
            for ep in (
                await s.scalars(select(m.Endpoint).where(m.Endpoint.service_id == service_id))
            ).all():
                await s.delete(ep)
            await s.delete(svc)
        self.invalidate()

    # --- endpoints -------------------------------------------------------------------------
    async def _endpoint_region(self, s: AsyncSession, values: dict[str, Any]) -> None:
        """``region_id`` must exist; the legacy ``region`` is created when missing (Keystone)."""
        legacy = values.pop("region", None)
        if values.get("region_id"):
            await must_get(s, m.Region, values["region_id"], "region")
        elif legacy:
            values["region_id"] = legacy
            if await s.get(m.Region, legacy) is None:
                s.add(m.Region(id=legacy, description="", extra={}))
                await s.flush()

    async def create_endpoint(self, values: dict[str, Any]) -> m.Endpoint:
        async with self.store.db.session() as s:
            await must_get(s, m.Service, values["service_id"], "service")
            await self._endpoint_region(s, values)
            ep = m.Endpoint(id=m.new_id(), extra={})
            apply_changes(ep, values, ENDPOINT_COLUMNS)
            s.add(ep)
        self.invalidate()
        return ep

    async def get_endpoint(self, endpoint_id: str) -> m.Endpoint:
        async with self.store.db.session() as s:
            return await must_get(s, m.Endpoint, endpoint_id, "endpoint")

    async def list_endpoints(self, filters: dict[str, Any]) -> Sequence[m.Endpoint]:
        stmt = select(m.Endpoint).order_by(m.Endpoint.service_id, m.Endpoint.interface)
        for key in ("service_id", "interface", "region_id"):
            if key in filters:
                stmt = stmt.where(getattr(m.Endpoint, key) == filters[key])
        async with self.store.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def update_endpoint(self, endpoint_id: str, changes: dict[str, Any]) -> m.Endpoint:
        async with self.store.db.session() as s:
            ep = await must_get(s, m.Endpoint, endpoint_id, "endpoint")
            if "service_id" in changes:
                await must_get(s, m.Service, changes["service_id"], "service")
            await self._endpoint_region(s, changes)
            apply_changes(ep, changes, ENDPOINT_COLUMNS)
        self.invalidate()
        return ep

    async def delete_endpoint(self, endpoint_id: str) -> None:
        async with self.store.db.session() as s:
            await s.delete(await must_get(s, m.Endpoint, endpoint_id, "endpoint"))
        self.invalidate()

    # --- regions ---------------------------------------------------------------------------
    async def create_region(self, values: dict[str, Any], region_id: str | None = None) -> m.Region:
        async with self.store.db.session() as s:
            if region_id and await s.get(m.Region, region_id) is not None:
                raise errors.Conflict(kind="region", reason=f"Duplicate ID, {region_id}")
            if values.get("parent_region_id"):
                await must_get(s, m.Region, values["parent_region_id"], "region")
            region = m.Region(id=region_id or m.new_id(), extra={})
            apply_changes(region, values, REGION_COLUMNS)
            s.add(region)
        return region

    async def get_region(self, region_id: str) -> m.Region:
        async with self.store.db.session() as s:
            return await must_get(s, m.Region, region_id, "region")

    async def list_regions(self, filters: dict[str, Any]) -> Sequence[m.Region]:
        stmt = select(m.Region).order_by(m.Region.id)
        if "parent_region_id" in filters:
            stmt = stmt.where(m.Region.parent_region_id == filters["parent_region_id"])
        async with self.store.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def update_region(self, region_id: str, changes: dict[str, Any]) -> m.Region:
        async with self.store.db.session() as s:
            region = await must_get(s, m.Region, region_id, "region")
            parent = changes.get("parent_region_id")
            if parent:
                if parent == region_id:
                    raise errors.BadRequest("A region cannot be its own parent.")
                await must_get(s, m.Region, parent, "region")
            apply_changes(region, changes, REGION_COLUMNS)
        return region

    async def delete_region(self, region_id: str) -> None:
        """Delete a region and its child regions, unless any of them has endpoints."""
        async with self.store.db.session() as s:
            await must_get(s, m.Region, region_id, "region")
            doomed, frontier = [region_id], [region_id]
            while frontier:
                frontier = list(
                    (
                        await s.scalars(
                            select(m.Region.id).where(m.Region.parent_region_id.in_(frontier))
                        )
                    ).all()
                )
                doomed.extend(frontier)
            if await s.scalar(select(m.Endpoint.id).where(m.Endpoint.region_id.in_(doomed))):
                raise errors.Forbidden(
                    "Unable to delete region because it or its child regions have associated "
                    "endpoints."
                )
            for child in reversed(doomed):  # leaves first: the parent link is a foreign key
                await s.delete(await must_get(s, m.Region, child, "region"))
                await s.flush()
        self.invalidate()

    # --- bootstrap -------------------------------------------------------------------------
    async def ensure_service(self, type_: str, name: str, url: str, region: str) -> None:
        """Register (or re-point) the three endpoints of one of OneStack's own services."""
        async with self.store.db.session() as s:
            if await s.get(m.Region, region) is None:
                s.add(m.Region(id=region, description="", extra={}))
                await s.flush()
            svc = await s.scalar(
                select(m.Service).where(m.Service.type == type_, m.Service.name == name)
            )
            if svc is None:
                svc = m.Service(id=m.new_id(), type=type_, name=name, enabled=True, extra={})
                s.add(svc)
                await s.flush()
            existing = {
                ep.interface: ep
                for ep in (
                    await s.scalars(select(m.Endpoint).where(m.Endpoint.service_id == svc.id))
                ).all()
                if ep.region_id == region
            }
            for interface in INTERFACES:
                ep = existing.get(interface)
                if ep is None:
                    s.add(
                        m.Endpoint(
                            id=m.new_id(),
                            service_id=svc.id,
                            interface=interface,
                            region_id=region,
                            url=url,
                            enabled=True,
                            extra={},
                        )
                    )
                elif ep.url != url:
                    ep.url = url
        self.invalidate()
