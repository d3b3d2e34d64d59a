"""Services, endpoints and regions, and the catalog built from them (cached in memory)."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.identity import models
from onestack.identity.service.base import IdentityContext, apply_changes, must_get

SERVICE_COLUMNS = {"type", "name", "description", "enabled"}
ENDPOINT_COLUMNS = {"service_id", "interface", "region_id", "url", "enabled"}
REGION_COLUMNS = {"description", "parent_region_id"}
INTERFACES = ("public", "internal", "admin")
CATALOG_TTL = 5.0
FILLED_CACHE_SIZE = 4096
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
    def __init__(self, context: IdentityContext) -> None:
        self.context = context
        self._cached: list[dict[str, Any]] | None = None
        self._cached_at = 0.0
        self._templated = False
        # (project, user) -> the cached raw catalog with its templates filled
        self._filled: dict[tuple[str | None, str], list[dict[str, Any]]] = {}
        # The endpoint ids a project's catalog keeps, None when it is not filtered (OS-EP-FILTER).
        self.project_filter: Callable[[str], Awaitable[set[str] | None]] | None = None

    def invalidate(self) -> None:
        self._cached = None
        self._filled.clear()

    async def catalog(self, project_id: str | None, user_id: str) -> list[dict[str, Any]]:
        """The catalog of a token: enabled services and endpoints, templates filled in;
        an endpoint that needs a project is left out of a token without one (as Keystone)."""
        raw = await self._raw_catalog()
        shared = True  # the cached raw catalog itself, not a per-project filtered copy
        if project_id is not None and self.project_filter is not None:
            kept = await self.project_filter(project_id)
            if kept is not None:  # OS-EP-FILTER: only the project's endpoints, no empty services
                shared = False
                raw = [
                    {**svc, "endpoints": eps}
                    for svc in raw
                    if (eps := [ep for ep in svc["endpoints"] if ep["id"] in kept])
                ]
        if not self._templated:
            return raw
        # Filling the templates was a tenth of a token validation: kept until the raw
        # catalog is read again (its TTL, or a change here).
        key = (project_id, user_id)
        filled = self._filled.get(key)
        if shared and filled is not None:
            return filled
        values = {"project_id": project_id, "tenant_id": project_id, "user_id": user_id}
        result = [
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
        if not shared:
            return result
        if len(self._filled) >= FILLED_CACHE_SIZE:
            self._filled.clear()
        self._filled[key] = result
        return result

    async def _raw_catalog(self) -> list[dict[str, Any]]:
        if self._cached is not None and time.monotonic() - self._cached_at < CATALOG_TTL:
            return self._cached
        async with self.context.db.session() as s:
            services = (
                await s.scalars(select(models.Service).where(models.Service.enabled.is_(True)))
            ).all()
            endpoints = (
                await s.scalars(select(models.Endpoint).where(models.Endpoint.enabled.is_(True)))
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
        self._filled.clear()
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
    async def create_service(self, values: dict[str, Any]) -> models.Service:
        async with self.context.db.session() as s:
            svc = models.Service(id=models.new_id(), extra={})
            apply_changes(svc, values, SERVICE_COLUMNS)
            s.add(svc)
        self.invalidate()
        return svc

    async def get_service(self, service_id: str) -> models.Service:
        async with self.context.db.session() as s:
            return await must_get(s, models.Service, service_id, "service")

    async def list_services(self, filters: dict[str, Any]) -> Sequence[models.Service]:
        stmt = select(models.Service).order_by(models.Service.type)
        for key in ("type", "name"):
            if key in filters:
                stmt = stmt.where(getattr(models.Service, key) == filters[key])
        async with self.context.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def update_service(self, service_id: str, changes: dict[str, Any]) -> models.Service:
        async with self.context.db.session() as s:
            svc = await must_get(s, models.Service, service_id, "service")
            apply_changes(svc, changes, SERVICE_COLUMNS)
        self.invalidate()
        return svc

    async def delete_service(self, service_id: str) -> None:
        async with self.context.db.session() as s:
            svc = await must_get(s, models.Service, service_id, "service")
            for ep in (
                await s.scalars(
                    select(models.Endpoint).where(models.Endpoint.service_id == service_id)
                )
            ).all():
                await s.delete(ep)
            await s.delete(svc)
        self.invalidate()

    # --- endpoints -------------------------------------------------------------------------
    async def _endpoint_region(self, s: AsyncSession, values: dict[str, Any]) -> None:
        """``region_id`` must exist; the legacy ``region`` is created when missing (Keystone)."""
        legacy = values.pop("region", None)
        if values.get("region_id"):
            await must_get(s, models.Region, values["region_id"], "region")
        elif legacy:
            values["region_id"] = legacy
            if await s.get(models.Region, legacy) is None:
                s.add(models.Region(id=legacy, description="", extra={}))
                await s.flush()

    async def create_endpoint(self, values: dict[str, Any]) -> models.Endpoint:
        async with self.context.db.session() as s:
            await must_get(s, models.Service, values["service_id"], "service")
            await self._endpoint_region(s, values)
            ep = models.Endpoint(id=models.new_id(), extra={})
            apply_changes(ep, values, ENDPOINT_COLUMNS)
            s.add(ep)
        self.invalidate()
        return ep

    async def get_endpoint(self, endpoint_id: str) -> models.Endpoint:
        async with self.context.db.session() as s:
            return await must_get(s, models.Endpoint, endpoint_id, "endpoint")

    async def list_endpoints(self, filters: dict[str, Any]) -> Sequence[models.Endpoint]:
        stmt = select(models.Endpoint).order_by(
            models.Endpoint.service_id, models.Endpoint.interface
        )
        for key in ("service_id", "interface", "region_id"):
            if key in filters:
                stmt = stmt.where(getattr(models.Endpoint, key) == filters[key])
        async with self.context.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def update_endpoint(self, endpoint_id: str, changes: dict[str, Any]) -> models.Endpoint:
        async with self.context.db.session() as s:
            ep = await must_get(s, models.Endpoint, endpoint_id, "endpoint")
            if "service_id" in changes:
                await must_get(s, models.Service, changes["service_id"], "service")
            await self._endpoint_region(s, changes)
            apply_changes(ep, changes, ENDPOINT_COLUMNS)
        self.invalidate()
        return ep

    async def delete_endpoint(self, endpoint_id: str) -> None:
        async with self.context.db.session() as s:
            await s.delete(await must_get(s, models.Endpoint, endpoint_id, "endpoint"))
        self.invalidate()

    # --- regions ---------------------------------------------------------------------------
    async def create_region(
        self, values: dict[str, Any], region_id: str | None = None
    ) -> models.Region:
        async with self.context.db.session() as s:
            if region_id and await s.get(models.Region, region_id) is not None:
                raise errors.Conflict(kind="region", reason=f"Duplicate ID, {region_id}")
            if values.get("parent_region_id"):
                await must_get(s, models.Region, values["parent_region_id"], "region")
            region = models.Region(id=region_id or models.new_id(), extra={})
            apply_changes(region, values, REGION_COLUMNS)
            s.add(region)
        return region

    async def get_region(self, region_id: str) -> models.Region:
        async with self.context.db.session() as s:
            return await must_get(s, models.Region, region_id, "region")

    async def list_regions(self, filters: dict[str, Any]) -> Sequence[models.Region]:
        stmt = select(models.Region).order_by(models.Region.id)
        if "parent_region_id" in filters:
            stmt = stmt.where(models.Region.parent_region_id == filters["parent_region_id"])
        async with self.context.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def update_region(self, region_id: str, changes: dict[str, Any]) -> models.Region:
        async with self.context.db.session() as s:
            region = await must_get(s, models.Region, region_id, "region")
            parent = changes.get("parent_region_id")
            if parent:
                if parent == region_id:
                    raise errors.BadRequest("A region cannot be its own parent.")
                await must_get(s, models.Region, parent, "region")
            apply_changes(region, changes, REGION_COLUMNS)
        return region

    async def delete_region(self, region_id: str) -> None:
        """Delete a region and its child regions, unless any of them has endpoints."""
        async with self.context.db.session() as s:
            await must_get(s, models.Region, region_id, "region")
            doomed, frontier = [region_id], [region_id]
            while frontier:
                frontier = list(
                    (
                        await s.scalars(
                            select(models.Region.id).where(
                                models.Region.parent_region_id.in_(frontier)
                            )
                        )
                    ).all()
                )
                doomed.extend(frontier)
            if await s.scalar(
                select(models.Endpoint.id).where(models.Endpoint.region_id.in_(doomed))
            ):
                raise errors.Forbidden(
                    "Unable to delete region because it or its child regions have associated "
                    "endpoints."
                )
            for child in reversed(doomed):  # leaves first: the parent link is a foreign key
                await s.delete(await must_get(s, models.Region, child, "region"))
                await s.flush()
        self.invalidate()

    # --- bootstrap -------------------------------------------------------------------------
    async def ensure_services(self, wanted: list[tuple[str, str, str]], region: str) -> None:
        """Register (or re-point) the three endpoints of each of OneStack's own services,
        given as ``(type, name, url)``: every start does it, in a few statements however
        many services there are (#19: one session per service was 33 of a restart's 42)."""
        async with self.context.db.session() as s:
            if await s.get(models.Region, region) is None:
                s.add(models.Region(id=region, description="", extra={}))
                await s.flush()
            keys = {(type_, name) for type_, name, _url in wanted}
            services = {
                (svc.type, svc.name): svc
                for svc in (await s.scalars(select(models.Service))).all()
                if (svc.type, svc.name) in keys
            }
            endpoints: dict[tuple[str, str], models.Endpoint] = {}
            if services:
                ids = [svc.id for svc in services.values()]
                for ep in (
                    await s.scalars(
                        select(models.Endpoint).where(
                            models.Endpoint.service_id.in_(ids),
                            models.Endpoint.region_id == region,
                        )
                    )
                ).all():
                    endpoints[(ep.service_id, ep.interface)] = ep
            missing = [
                models.Service(id=models.new_id(), type=type_, name=name, enabled=True, extra={})
                for type_, name in sorted(keys - services.keys())
            ]
            if missing:
                s.add_all(missing)
                await s.flush()  # the endpoints refer to them
                services.update({(svc.type, svc.name): svc for svc in missing})
            for type_, name, url in wanted:
                svc = services[(type_, name)]
                for interface in INTERFACES:
                    found = endpoints.get((svc.id, interface))
                    if found is None:
                        s.add(
                            models.Endpoint(
                                id=models.new_id(),
                                service_id=svc.id,
                                interface=interface,
                                region_id=region,
                                url=url,
                                enabled=True,
                                extra={},
                            )
                        )
                    elif found.url != url:
                        found.url = url
        self.invalidate()
