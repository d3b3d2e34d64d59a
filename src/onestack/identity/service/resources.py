"""Domains and projects (with their hierarchy and tags)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.db import delete_one
from onestack.identity import models
from onestack.identity.service.base import IdentityContext, apply_changes, must_get

DOMAIN_COLUMNS = {"name", "description", "enabled", "tags"}
PROJECT_COLUMNS = {"name", "description", "enabled", "options"}
MAX_DEPTH = 5


class Resources:
    def __init__(self, context: IdentityContext, revoke: Any) -> None:
        self.context = context
        self.revoke = revoke

    # --- domains ---------------------------------------------------------------------------
    async def create_domain(
        self, values: dict[str, Any], domain_id: str | None = None
    ) -> models.Domain:
        async with self.context.db.session() as s:
            if await s.scalar(select(models.Domain.id).where(models.Domain.name == values["name"])):
                raise errors.Conflict(kind="domain", reason=f"Duplicate entry {values['name']}")
            domain = models.Domain(id=domain_id or models.new_id(), extra={}, tags=[])
            apply_changes(domain, values, DOMAIN_COLUMNS)
            s.add(domain)
        await self.context.notify("domain.created", domain.id)
        return domain

    async def get_domain(self, domain_id: str) -> models.Domain:
        async with self.context.db.session() as s:
            return await must_get(s, models.Domain, domain_id, "domain")

    async def find_domain(self, name: str) -> models.Domain:
        async with self.context.db.session() as s:
            domain = await s.scalar(select(models.Domain).where(models.Domain.name == name))
            if domain is None:
                raise errors.NotFound(kind="domain", id=name)
            return domain

    async def list_domains(self, filters: dict[str, Any]) -> Sequence[models.Domain]:
        stmt = select(models.Domain).order_by(models.Domain.name)
        if "name" in filters:
            stmt = stmt.where(models.Domain.name == filters["name"])
        if "enabled" in filters:
            stmt = stmt.where(models.Domain.enabled == filters["enabled"])
        async with self.context.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def update_domain(self, domain_id: str, changes: dict[str, Any]) -> models.Domain:
        async with self.context.db.session() as s:
            domain = await must_get(s, models.Domain, domain_id, "domain")
            if "name" in changes and changes["name"] != domain.name:
                taken = await s.scalar(
                    select(models.Domain.id).where(models.Domain.name == changes["name"])
                )
                if taken:
                    raise errors.Conflict(
                        kind="domain", reason=f"Duplicate entry {changes['name']}"
                    )
            disabling = changes.get("enabled") is False and domain.enabled
            apply_changes(domain, changes, DOMAIN_COLUMNS)
        if disabling:
            await self.revoke.record(domain_id=domain_id)
        await self.context.notify("domain.updated", domain_id)
        return domain

    async def delete_domain(self, domain_id: str) -> None:
        """Delete a disabled domain with everything it owns, as Keystone does."""
        async with self.context.db.session() as s:
            domain = await must_get(s, models.Domain, domain_id, "domain")
            if domain.enabled:
                raise errors.Forbidden(
                    "Cannot delete a domain that is enabled, please disable it first."
                )
            projects = select(models.Project.id).where(models.Project.domain_id == domain_id)
            users = select(models.User.id).where(models.User.domain_id == domain_id)
            groups = select(models.Group.id).where(models.Group.domain_id == domain_id)
            roles = select(models.Role.id).where(models.Role.domain_id == domain_id)
            for stmt in (
                delete(models.Assignment).where(
                    or_(
                        models.Assignment.target_id == domain_id,
                        models.Assignment.target_id.in_(projects),
                        models.Assignment.actor_id.in_(users),
                        models.Assignment.actor_id.in_(groups),
                        models.Assignment.role_id.in_(roles),
                    )
                ),
                delete(models.Membership).where(
                    or_(
                        models.Membership.user_id.in_(users), models.Membership.group_id.in_(groups)
                    )
                ),
                delete(models.ImpliedRole).where(
                    or_(
                        models.ImpliedRole.prior_role_id.in_(roles),
                        models.ImpliedRole.implied_role_id.in_(roles),
                    )
                ),
                delete(models.ApplicationCredential).where(
                    models.ApplicationCredential.user_id.in_(users)
                ),
                delete(models.Credential).where(models.Credential.user_id.in_(users)),
                delete(models.ProjectTag).where(models.ProjectTag.project_id.in_(projects)),
                # MariaDB checks foreign keys row by row: cut the hierarchy before deleting it.
                update(models.Project)
                .where(models.Project.domain_id == domain_id)
                .values(parent_id=None),
                delete(models.Project).where(models.Project.domain_id == domain_id),
                delete(models.User).where(models.User.domain_id == domain_id),
                delete(models.Group).where(models.Group.domain_id == domain_id),
                delete(models.Role).where(models.Role.domain_id == domain_id),
            ):
                await s.execute(stmt)
            await s.delete(domain)
        await self.revoke.record(domain_id=domain_id)
        await self.context.notify("domain.deleted", domain_id)

    # --- projects --------------------------------------------------------------------------
    async def _tags(self, s: AsyncSession, project_ids: Sequence[str]) -> dict[str, list[str]]:
        rows = await s.execute(
            select(models.ProjectTag.project_id, models.ProjectTag.name)
            .where(models.ProjectTag.project_id.in_(project_ids))
            .order_by(models.ProjectTag.name)
        )
        tags: dict[str, list[str]] = {pid: [] for pid in project_ids}
        for pid, name in rows:
            tags[pid].append(name)
        return tags

    async def _set_tags(self, s: AsyncSession, project_id: str, tags: Sequence[str]) -> None:
        await s.execute(delete(models.ProjectTag).where(models.ProjectTag.project_id == project_id))
        for tag in dict.fromkeys(tags):
            s.add(models.ProjectTag(project_id=project_id, name=tag))

    async def _depth(self, s: AsyncSession, project_id: str | None) -> int:
        depth = 0
        while project_id is not None:
            depth += 1
            project_id = await s.scalar(
                select(models.Project.parent_id).where(models.Project.id == project_id)
            )
        return depth

    async def create_project(self, values: dict[str, Any]) -> tuple[models.Project, list[str]]:
        tags = values.pop("tags", None) or []
        async with self.context.db.session() as s:
            parent_id = values.pop("parent_id", None)
            domain_id = values.pop("domain_id")
            await must_get(s, models.Domain, domain_id, "domain")
            if parent_id is not None:
                parent = await must_get(s, models.Project, parent_id, "project")
                if parent.domain_id != domain_id:
                    raise errors.BadRequest(
                        "Cannot create a project with a parent in a different domain."
                    )
                if await self._depth(s, parent_id) >= MAX_DEPTH:
                    raise errors.Forbidden(f"Max hierarchy depth reached for {parent_id} branch.")
            taken = await s.scalar(
                select(models.Project.id).where(
                    models.Project.domain_id == domain_id, models.Project.name == values["name"]
                )
            )
            if taken:
                raise errors.Conflict(kind="project", reason=f"Duplicate entry {values['name']}")
            project = models.Project(
                id=models.new_id(), domain_id=domain_id, parent_id=parent_id, extra={}, options={}
            )
            apply_changes(project, values, PROJECT_COLUMNS)
            s.add(project)
            await s.flush()
            await self._set_tags(s, project.id, tags)
        await self.context.notify("project.created", project.id)
        return project, sorted(set(tags))

    async def get_project(self, project_id: str) -> tuple[models.Project, list[str]]:
        async with self.context.db.session() as s:
            project = await must_get(s, models.Project, project_id, "project")
            return project, (await self._tags(s, [project_id]))[project_id]

    async def find_project(self, name: str, domain_id: str) -> models.Project:
        async with self.context.db.session() as s:
            project = await s.scalar(
                select(models.Project).where(
                    models.Project.name == name, models.Project.domain_id == domain_id
                )
            )
            if project is None:
                raise errors.NotFound(kind="project", id=name)
            return project

    async def list_projects(
        self, filters: dict[str, Any], ids: Collection[str] | None = None
    ) -> list[tuple[models.Project, list[str]]]:
        stmt = select(models.Project).order_by(models.Project.name)
        for key in ("name", "domain_id", "enabled", "parent_id"):
            if key in filters:
                stmt = stmt.where(getattr(models.Project, key) == filters[key])
        if ids is not None:
            stmt = stmt.where(models.Project.id.in_(ids))
        for key, negate, want_all in (
            ("tags", False, True),
            ("tags-any", False, False),
            ("not-tags", True, True),
            ("not-tags-any", True, False),
        ):
            if key not in filters:
                continue
            wanted = [t for t in filters[key].split(",") if t]
            matching = (
                select(models.ProjectTag.project_id)
                .where(models.ProjectTag.name.in_(wanted))
                .group_by(models.ProjectTag.project_id)
            )
            if want_all:
                matching = matching.having(func.count() == len(set(wanted)))
            cond = models.Project.id.in_(matching)
            stmt = stmt.where(~cond if negate else cond)
        async with self.context.db.session() as s:
            projects = (await s.scalars(stmt)).all()
            tags = await self._tags(s, [p.id for p in projects])
        return [(p, tags[p.id]) for p in projects]

    async def update_project(
        self, project_id: str, changes: dict[str, Any]
    ) -> tuple[models.Project, list[str]]:
        tags = changes.pop("tags", None)
        async with self.context.db.session() as s:
            project = await must_get(s, models.Project, project_id, "project")
            for immutable in ("domain_id", "parent_id", "is_domain"):
                if immutable in changes and changes[immutable] != getattr(
                    project, immutable, False
                ):
                    raise errors.BadRequest(f"Update of `{immutable}` is not allowed.")
                changes.pop(immutable, None)
            if "name" in changes and changes["name"] != project.name:
                taken = await s.scalar(
                    select(models.Project.id).where(
                        models.Project.domain_id == project.domain_id,
                        models.Project.name == changes["name"],
                    )
                )
                if taken:
                    raise errors.Conflict(
                        kind="project", reason=f"Duplicate entry {changes['name']}"
                    )
            disabling = changes.get("enabled") is False and project.enabled
            apply_changes(project, changes, PROJECT_COLUMNS)
            if tags is not None:
                await self._set_tags(s, project_id, tags)
            current = (await self._tags(s, [project_id]))[project_id] if tags is None else None
        if disabling:
            await self.revoke.record(project_id=project_id)
        await self.context.notify("project.updated", project_id)
        return project, sorted(set(tags)) if tags is not None else (current or [])

    async def delete_project(self, project_id: str) -> None:
        async with self.context.db.session() as s:
            await must_get(s, models.Project, project_id, "project")
            if await s.scalar(select(exists().where(models.Project.parent_id == project_id))):
                raise errors.Forbidden(
                    f"Cannot delete the project {project_id} since it is not a leaf in the "
                    "hierarchy. Use the cascade option if you want to delete a subtree."
                )
            await s.execute(
                delete(models.Assignment).where(models.Assignment.target_id == project_id)
            )
            await s.execute(
                delete(models.ProjectTag).where(models.ProjectTag.project_id == project_id)
            )
            await delete_one(
                s,
                delete(models.Project).where(models.Project.id == project_id),
                errors.NotFound(kind="project", id=project_id),
            )
        await self.revoke.record(project_id=project_id)
        await self.context.notify("project.deleted", project_id)

    async def set_tags(self, project_id: str, tags: Sequence[str]) -> list[str]:
        async with self.context.db.session() as s:
            await must_get(s, models.Project, project_id, "project")
            await self._set_tags(s, project_id, tags)
        return sorted(set(tags))

    async def add_tag(self, project_id: str, tag: str) -> None:
        async with self.context.db.session() as s:
            await must_get(s, models.Project, project_id, "project")
            if await s.get(models.ProjectTag, (project_id, tag)) is None:
                s.add(models.ProjectTag(project_id=project_id, name=tag))

    async def remove_tag(self, project_id: str, tag: str) -> None:
        async with self.context.db.session() as s:
            row = await s.get(models.ProjectTag, (project_id, tag))
            if row is None:
                raise errors.NotFound(kind="tag", id=tag)
            await s.delete(row)

    async def ancestors(self, project_id: str) -> list[str]:
        """Parent, grandparent, ... of a project (nearest first)."""
        out: list[str] = []
        async with self.context.db.session() as s:
            parent = await s.scalar(
                select(models.Project.parent_id).where(models.Project.id == project_id)
            )
            while parent is not None:
                out.append(parent)
                parent = await s.scalar(
                    select(models.Project.parent_id).where(models.Project.id == parent)
                )
        return out

    async def subtree(self, project_id: str) -> list[str]:
        """Every descendant of a project (breadth first)."""
        out: list[str] = []
        frontier = [project_id]
        async with self.context.db.session() as s:
            while frontier:
                children = (
                    await s.scalars(
                        select(models.Project.id).where(models.Project.parent_id.in_(frontier))
                    )
                ).all()
                out.extend(children)
                frontier = list(children)
        return out
