"""Role grants (users and groups on projects, domains and the system) and effective roles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select

from onestack.common import errors
from onestack.identity import models
from onestack.identity.service.base import IdentityContext, must_get
from onestack.identity.service.resources import Resources
from onestack.identity.service.roles import Roles

SYSTEM = "system"
ACTOR_MODELS = {"user": models.User, "group": models.Group}


def grant_type(actor: str, target: str) -> str:
    return f"{actor.capitalize()}{target.capitalize()}"


@dataclass(frozen=True)
class AssignmentRef:
    """One (possibly derived) assignment, as ``GET /v3/role_assignments`` lists them."""

    role_id: str
    actor: str  # "user" | "group"
    actor_id: str
    target: str  # "project" | "domain" | "system"
    target_id: str
    inherited: bool = False
    via_group: str | None = None  # effective: the group the user got it through
    prior_role_id: str | None = None  # effective: the role that implied this one
    source_target: str | None = None  # effective: "domain" | "project" an inherited grant is on
    source_target_id: str | None = None

    @classmethod
    def from_row(cls, row: models.Assignment) -> AssignmentRef:
        actor = "user" if row.type.startswith("User") else "group"
        target = row.type.removeprefix("User").removeprefix("Group").lower()
        return cls(row.role_id, actor, row.actor_id, target, row.target_id, row.inherited)


class Assignments:
    def __init__(
        self, context: IdentityContext, revoke: Any, resources: Resources, roles: Roles
    ) -> None:
        self.context = context
        self.revoke = revoke
        self.resources = resources
        self.roles = roles

    async def _check_parts(
        self, actor: str, actor_id: str, target: str, target_id: str, role_id: str
    ) -> None:
        async with self.context.db.session() as s:
            await must_get(s, ACTOR_MODELS[actor], actor_id, actor)
            if target == "project":
                await must_get(s, models.Project, target_id, "project")
            elif target == "domain":
                await must_get(s, models.Domain, target_id, "domain")
            await must_get(s, models.Role, role_id, "role")

    async def grant(
        self,
        actor: str,
        actor_id: str,
        target: str,
        target_id: str,
        role_id: str,
        inherited: bool = False,
    ) -> None:
        await self._check_parts(actor, actor_id, target, target_id, role_id)
        key = (grant_type(actor, target), actor_id, target_id, role_id, inherited)
        async with self.context.db.session() as s:
            if await s.get(models.Assignment, key) is None:
                s.add(
                    models.Assignment(
                        type=key[0],
                        actor_id=actor_id,
                        target_id=target_id,
                        role_id=role_id,
                        inherited=inherited,
                    )
                )

    async def check(
        self,
        actor: str,
        actor_id: str,
        target: str,
        target_id: str,
        role_id: str,
        inherited: bool = False,
    ) -> None:
        await self._check_parts(actor, actor_id, target, target_id, role_id)
        key = (grant_type(actor, target), actor_id, target_id, role_id, inherited)
        async with self.context.db.session() as s:
            if await s.get(models.Assignment, key) is None:
                raise errors.NotFound(
                    f"Could not find role assignment with role: {role_id}, {actor}: {actor_id}, "
                    f"{target}: {target_id}."
                )

    async def revoke_grant(
        self,
        actor: str,
        actor_id: str,
        target: str,
        target_id: str,
        role_id: str,
        inherited: bool = False,
    ) -> None:
        await self.check(actor, actor_id, target, target_id, role_id, inherited)
        key = (grant_type(actor, target), actor_id, target_id, role_id, inherited)
        async with self.context.db.session() as s:
            row = await s.get(models.Assignment, key)
            if row is not None:
                await s.delete(row)
            users = [actor_id]
            if actor == "group":
                users = list(
                    (
                        await s.scalars(
                            select(models.Membership.user_id).where(
                                models.Membership.group_id == actor_id
                            )
                        )
                    ).all()
                )
        for user_id in users:
            if target == "project" and not inherited:
                await self.revoke.record(user_id=user_id, project_id=target_id)
            else:
                await self.revoke.record(user_id=user_id)
        if actor == "group":  # federated tokens carry the group without a membership
            if target == "project" and not inherited:
                await self.revoke.record(group_id=actor_id, project_id=target_id)
            else:
                await self.revoke.record(group_id=actor_id)

    async def list_grants(
        self, actor: str, actor_id: str, target: str, target_id: str, inherited: bool = False
    ) -> list[models.Role]:
        async with self.context.db.session() as s:
            await must_get(s, ACTOR_MODELS[actor], actor_id, actor)
            stmt = (
                select(models.Role)
                .join(models.Assignment, models.Assignment.role_id == models.Role.id)
                .where(
                    models.Assignment.type == grant_type(actor, target),
                    models.Assignment.actor_id == actor_id,
                    models.Assignment.target_id == target_id,
                    models.Assignment.inherited == inherited,
                )
                .order_by(models.Role.name)
            )
            return list((await s.scalars(stmt)).all())

    # --- effective roles -------------------------------------------------------------------
    async def effective_role_ids(
        self, user_id: str, target: str, target_id: str, extra_groups: Sequence[str] = ()
    ) -> set[str]:
        """Every role the user holds on the target: direct, via groups, inherited, implied.
        ``extra_groups``: groups a federated token carries (not memberships in the database)."""
        async with self.context.db.session() as s:
            groups = (
                await s.scalars(
                    select(models.Membership.group_id).where(models.Membership.user_id == user_id)
                )
            ).all()
            actors = [user_id, *groups, *extra_groups]
            conditions: list[tuple[Sequence[str], Sequence[str], bool | None]] = []
            if target == "project":
                project = await s.get(models.Project, target_id)
                if project is None:
                    return set()
                ancestors = await self.resources.ancestors(target_id)
                conditions = [
                    (("UserProject", "GroupProject"), [target_id], False),
                    (("UserProject", "GroupProject"), ancestors, True),
                    (("UserDomain", "GroupDomain"), [project.domain_id], True),
                ]
            elif target == "domain":
                conditions = [(("UserDomain", "GroupDomain"), [target_id], False)]
            else:
                conditions = [(("UserSystem", "GroupSystem"), [SYSTEM], None)]
            found: set[str] = set()
            for types, targets, inherited in conditions:
                if not targets:
                    continue
                stmt = select(models.Assignment.role_id).where(
                    models.Assignment.type.in_(types),
                    models.Assignment.actor_id.in_(actors),
                    models.Assignment.target_id.in_(targets),
                )
                if inherited is not None:
                    stmt = stmt.where(models.Assignment.inherited == inherited)
                found.update((await s.scalars(stmt)).all())
        return await self.roles.global_only(await self.roles.expand(found)) if found else set()

    async def targets_of_user(self, user_id: str, target: str) -> list[str]:
        """Projects (or domains) on which the user has at least one effective role."""
        refs = await self.list_assignments({"user_id": user_id}, effective=True)
        return sorted({r.target_id for r in refs if r.target == target})

    async def targets_of_groups(self, group_ids: Sequence[str], target: str) -> list[str]:
        """Projects (or domains) on which one of the groups has a role, directly or inherited
        from a domain (a federated token's groups, which are no memberships)."""
        if not group_ids:
            return []
        async with self.context.db.session() as s:
            rows = (
                await s.execute(
                    select(
                        models.Assignment.type,
                        models.Assignment.target_id,
                        models.Assignment.inherited,
                    ).where(models.Assignment.actor_id.in_(group_ids))
                )
            ).all()
            found: set[str] = set()
            for kind, target_id, inherited in rows:
                if target == "project" and kind == "GroupProject" and not inherited:
                    found.add(target_id)
                elif target == "project" and kind == "GroupDomain" and inherited:
                    found.update(
                        (
                            await s.scalars(
                                select(models.Project.id).where(
                                    models.Project.domain_id == target_id
                                )
                            )
                        ).all()
                    )
                elif target == "domain" and kind == "GroupDomain" and not inherited:
                    found.add(target_id)
        return sorted(found)

    # --- GET /v3/role_assignments ----------------------------------------------------------
    async def list_assignments(
        self, filters: dict[str, Any], effective: bool = False, include_subtree: bool = False
    ) -> list[AssignmentRef]:
        async with self.context.db.session() as s:
            rows = (await s.scalars(select(models.Assignment))).all()
            refs = [AssignmentRef.from_row(r) for r in rows]
            if effective:
                memberships = (
                    await s.execute(select(models.Membership.group_id, models.Membership.user_id))
                ).all()
                projects = (
                    await s.execute(
                        select(
                            models.Project.id, models.Project.domain_id, models.Project.parent_id
                        )
                    )
                ).all()
        if effective:
            refs = await self._expand(refs, memberships, projects)
        project_ids: set[str] | None = None
        if "project_id" in filters:
            project_ids = {filters["project_id"]}
            if include_subtree:
                project_ids.update(await self.resources.subtree(filters["project_id"]))
        out = []
        for ref in refs:
            if "user_id" in filters and not (
                ref.actor == "user" and ref.actor_id == filters["user_id"]
            ):
                continue
            if "group_id" in filters and not (
                ref.actor == "group" and ref.actor_id == filters["group_id"]
            ):
                continue
            if "role_id" in filters and ref.role_id != filters["role_id"]:
                continue
            if project_ids is not None and not (
                ref.target == "project" and ref.target_id in project_ids
            ):
                continue
            if "domain_id" in filters and not (
                ref.target == "domain" and ref.target_id == filters["domain_id"]
            ):
                continue
            if filters.get("system") and ref.target != "system":
                continue
            if filters.get("inherited_to") and not ref.inherited:
                continue
            out.append(ref)
        return out

    async def _expand(
        self, refs: list[AssignmentRef], memberships: Sequence[Any], projects: Sequence[Any]
    ) -> list[AssignmentRef]:
        members: dict[str, list[str]] = {}
        for group_id, user_id in memberships:
            members.setdefault(group_id, []).append(user_id)
        children: dict[str | None, list[str]] = {}
        by_domain: dict[str, list[str]] = {}
        for pid, domain_id, parent_id in projects:
            children.setdefault(parent_id, []).append(pid)
            by_domain.setdefault(domain_id, []).append(pid)

        def descendants(pid: str) -> list[str]:
            out, frontier = [], [pid]
            while frontier:
                nxt = [c for p in frontier for c in children.get(p, ())]
                out.extend(nxt)
                frontier = nxt
            return out

        # Inherited grants apply to the projects below the grant's target, not the target.

        expanded: list[AssignmentRef] = []
        for ref in refs:
            if ref.inherited:
                targets = (
                    by_domain.get(ref.target_id, [])
                    if ref.target == "domain"
                    else descendants(ref.target_id)
                )
                expanded.extend(
                    replace(
                        ref,
                        target="project",
                        target_id=t,
                        source_target=ref.target,
                        source_target_id=ref.target_id,
                    )
                    for t in targets
                )
            else:
                expanded.append(ref)
        users: list[AssignmentRef] = []
        for ref in expanded:
            if ref.actor == "group":
                users.extend(
                    replace(ref, actor="user", actor_id=u, via_group=ref.actor_id)
                    for u in members.get(ref.actor_id, ())
                )
            else:
                users.append(ref)
        rules = await self.roles.inference_rules()
        final: list[AssignmentRef] = []
        seen: set[tuple[str, str, str, str]] = set()
        for ref in users:
            stack: list[tuple[str, str | None]] = [(ref.role_id, None)]
            while stack:
                role_id, prior = stack.pop()
                key = (role_id, ref.actor_id, ref.target, ref.target_id)
                if key in seen:
                    continue
                seen.add(key)
                final.append(replace(ref, role_id=role_id, prior_role_id=prior))
                stack.extend((implied, role_id) for implied in rules.get(role_id, ()))
        kept = await self.roles.global_only({ref.role_id for ref in final})
        return [ref for ref in final if ref.role_id in kept]
