"""OS-EP-FILTER: endpoint groups, project-endpoint and project-group associations, and the
endpoints a project's catalog is narrowed to (all of them when it has no association)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select

from onestack.common import errors
from onestack.identity import models
from onestack.identity.service.base import IdentityContext, must_get
from onestack.identity.service.catalog import CATALOG_TTL

FILTER_KEYS = ("service_id", "region_id", "interface")


def check_filters(filters: Any) -> dict[str, Any]:
    if not isinstance(filters, dict) or not filters:
        raise errors.ValidationError(field="filters", reason="is required and cannot be empty")
    for key in filters:
        if key not in FILTER_KEYS:
            raise errors.ValidationError(
                field=key, reason=f"only {' or '.join(FILTER_KEYS)} may filter endpoints"
            )
    return filters


def _matches(ep: models.Endpoint, filters: dict[str, Any]) -> bool:
    return all(getattr(ep, key) == value for key, value in filters.items())


class EndpointFilter:
    def __init__(self, context: IdentityContext) -> None:
        self.context = context
        self._filtered: set[str] | None = None  # projects with any association, cached
        self._filtered_at = 0.0

    def _changed(self) -> None:
        self._filtered = None

    # --- endpoint groups -------------------------------------------------------------------
    async def create_group(self, values: dict[str, Any]) -> models.EndpointGroup:
        group = models.EndpointGroup(
            id=models.new_id(),
            name=values["name"],
            description=values.get("description"),
            filters=check_filters(values.get("filters")),
        )
        async with self.context.db.session() as s:
            s.add(group)
        return group

    async def get_group(self, group_id: str) -> models.EndpointGroup:
        async with self.context.db.session() as s:
            return await must_get(s, models.EndpointGroup, group_id, "endpoint group")

    async def list_groups(self, filters: dict[str, Any]) -> Sequence[models.EndpointGroup]:
        stmt = select(models.EndpointGroup).order_by(models.EndpointGroup.name)
        if "name" in filters:
            stmt = stmt.where(models.EndpointGroup.name == filters["name"])
        async with self.context.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def update_group(self, group_id: str, changes: dict[str, Any]) -> models.EndpointGroup:
        async with self.context.db.session() as s:
            group = await must_get(s, models.EndpointGroup, group_id, "endpoint group")
            if "filters" in changes:
                group.filters = check_filters(changes["filters"])
            if "name" in changes:
                group.name = changes["name"]
            if "description" in changes:
                group.description = changes["description"]
        self._changed()
        return group

    async def delete_group(self, group_id: str) -> None:
        async with self.context.db.session() as s:
            await must_get(s, models.EndpointGroup, group_id, "endpoint group")
            await s.execute(
                delete(models.ProjectEndpointGroup).where(
                    models.ProjectEndpointGroup.endpoint_group_id == group_id
                )
            )
            await s.execute(delete(models.EndpointGroup).where(models.EndpointGroup.id == group_id))
        self._changed()

    async def group_endpoints(self, group_id: str) -> list[models.Endpoint]:
        group = await self.get_group(group_id)
        async with self.context.db.session() as s:
            endpoints = (
                await s.scalars(select(models.Endpoint).order_by(models.Endpoint.id))
            ).all()
        return [ep for ep in endpoints if _matches(ep, group.filters or {})]

    # --- associations ----------------------------------------------------------------------
    async def _project(self, project_id: str) -> None:
        async with self.context.db.session() as s:
            await must_get(s, models.Project, project_id, "project")

    async def add_endpoint(self, project_id: str, endpoint_id: str) -> None:
        async with self.context.db.session() as s:
            await must_get(s, models.Endpoint, endpoint_id, "endpoint")
            await must_get(s, models.Project, project_id, "project")
            if await s.get(models.ProjectEndpoint, (endpoint_id, project_id)) is None:
                s.add(models.ProjectEndpoint(endpoint_id=endpoint_id, project_id=project_id))
        self._changed()

    async def check_endpoint(self, project_id: str, endpoint_id: str) -> None:
        async with self.context.db.session() as s:
            await must_get(s, models.Endpoint, endpoint_id, "endpoint")
            await must_get(s, models.Project, project_id, "project")
            if await s.get(models.ProjectEndpoint, (endpoint_id, project_id)) is None:
                raise errors.NotFound(f"Endpoint {endpoint_id} not found in project {project_id}")

    async def remove_endpoint(self, project_id: str, endpoint_id: str) -> None:
        async with self.context.db.session() as s:
            row = await s.get(models.ProjectEndpoint, (endpoint_id, project_id))
            if row is None:
                raise errors.NotFound(f"Endpoint {endpoint_id} not found in project {project_id}")
            await s.delete(row)
        self._changed()

    async def projects_of_endpoint(self, endpoint_id: str) -> list[str]:
        async with self.context.db.session() as s:
            await must_get(s, models.Endpoint, endpoint_id, "endpoint")
            rows = await s.scalars(
                select(models.ProjectEndpoint.project_id).where(
                    models.ProjectEndpoint.endpoint_id == endpoint_id
                )
            )
            return list(rows.all())

    async def add_group(self, project_id: str, group_id: str) -> None:
        async with self.context.db.session() as s:
            await must_get(s, models.Project, project_id, "project")
            await must_get(s, models.EndpointGroup, group_id, "endpoint group")
            if await s.get(models.ProjectEndpointGroup, (group_id, project_id)) is None:
                s.add(
                    models.ProjectEndpointGroup(endpoint_group_id=group_id, project_id=project_id)
                )
        self._changed()

    async def check_group(self, project_id: str, group_id: str) -> None:
        async with self.context.db.session() as s:
            await must_get(s, models.Project, project_id, "project")
            await must_get(s, models.EndpointGroup, group_id, "endpoint group")
            if await s.get(models.ProjectEndpointGroup, (group_id, project_id)) is None:
                raise errors.NotFound(
                    f"Could not find endpoint group {group_id} in project {project_id}."
                )

    async def remove_group(self, project_id: str, group_id: str) -> None:
        async with self.context.db.session() as s:
            row = await s.get(models.ProjectEndpointGroup, (group_id, project_id))
            if row is None:
                raise errors.NotFound(
                    f"Could not find endpoint group {group_id} in project {project_id}."
                )
            await s.delete(row)
        self._changed()

    async def projects_of_group(self, group_id: str) -> list[str]:
        await self.get_group(group_id)
        async with self.context.db.session() as s:
            rows = await s.scalars(
                select(models.ProjectEndpointGroup.project_id).where(
                    models.ProjectEndpointGroup.endpoint_group_id == group_id
                )
            )
            return list(rows.all())

    async def groups_of_project(self, project_id: str) -> list[models.EndpointGroup]:
        await self._project(project_id)
        async with self.context.db.session() as s:
            rows = await s.scalars(
                select(models.EndpointGroup)
                .join(
                    models.ProjectEndpointGroup,
                    models.ProjectEndpointGroup.endpoint_group_id == models.EndpointGroup.id,
                )
                .where(models.ProjectEndpointGroup.project_id == project_id)
                .order_by(models.EndpointGroup.name)
            )
            return list(rows.all())

    async def project_endpoints(self, project_id: str) -> list[models.Endpoint]:
        """The project's endpoints: associated directly or through its endpoint groups."""
        async with self.context.db.session() as s:
            direct = set(
                (
                    await s.scalars(
                        select(models.ProjectEndpoint.endpoint_id).where(
                            models.ProjectEndpoint.project_id == project_id
                        )
                    )
                ).all()
            )
            endpoints = (
                await s.scalars(select(models.Endpoint).order_by(models.Endpoint.id))
            ).all()
        has_groups = await self._has_groups(project_id)
        groups = await self.groups_of_project(project_id) if has_groups else []
        return [
            ep
            for ep in endpoints
            if ep.id in direct or any(_matches(ep, g.filters or {}) for g in groups)
        ]

    async def _has_groups(self, project_id: str) -> bool:
        async with self.context.db.session() as s:
            found = await s.scalar(
                select(models.ProjectEndpointGroup.project_id)
                .where(models.ProjectEndpointGroup.project_id == project_id)
                .limit(1)
            )
        return found is not None

    async def catalog_filter(self, project_id: str) -> set[str] | None:
        """Endpoint ids a project's catalog keeps, or None when it is not filtered."""
        if self._filtered is None or time.monotonic() - self._filtered_at > CATALOG_TTL:
            async with self.context.db.session() as s:
                direct = (await s.scalars(select(models.ProjectEndpoint.project_id))).all()
                grouped = (await s.scalars(select(models.ProjectEndpointGroup.project_id))).all()
            self._filtered = {*direct, *grouped}
            self._filtered_at = time.monotonic()
        if project_id not in self._filtered:
            return None
        # As Keystone: associations that match nothing leave the full catalog.
        return {ep.id for ep in await self.project_endpoints(project_id) if ep.enabled} or None
