"""What other services may ask of the identity service: ``runtime.service(IdentityAPI)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.policy import Enforcer
from onestack.identity.service import IdentityService


@dataclass(frozen=True)
class Bootstrapped:
    """What the first start made: the admin and demo projects and their users' passwords."""

    admin_project_id: str
    demo_project_id: str
    admin_password: str
    demo_password: str

    def secrets(self) -> dict[str, str]:
        """The passwords, as ``clouds.yaml`` and the openrc files need them."""
        return {"admin_password": self.admin_password, "demo_password": self.demo_password}


class IdentityAPI(Protocol):
    @property
    def bootstrapped(self) -> Bootstrapped: ...

    async def project_exists(self, project_id: str) -> bool: ...

    async def project_ids(self) -> list[str]:
        """Every project's id (metering's object-storage poll: one account a project)."""
        ...

    # Made as ``ctx`` under Keystone's policy, as the API would (orchestration's Keystone
    # resources): each returns the new id; a domain or a role is an id or a name.
    async def create_project(self, ctx: RequestContext, values: dict[str, Any]) -> str: ...

    async def delete_project(self, ctx: RequestContext, project_id: str) -> None: ...

    async def create_user(self, ctx: RequestContext, values: dict[str, Any]) -> str: ...

    async def delete_user(self, ctx: RequestContext, user_id: str) -> None: ...

    async def create_role(self, ctx: RequestContext, values: dict[str, Any]) -> str: ...

    async def delete_role(self, ctx: RequestContext, role_id: str) -> None: ...

    async def grant_project_role(
        self, ctx: RequestContext, user_id: str, project_id: str, role: str
    ) -> None: ...

    async def create_application_credential(
        self, ctx: RequestContext, name: str, description: str
    ) -> tuple[str, str]:
        """An application credential of the caller on its project, with the roles the caller
        holds there now: its id and secret. No token needed (a stack's engine has none)."""
        ...


class IdentityFacade:
    def __init__(
        self, svc: IdentityService, bootstrapped: Bootstrapped, enforcer: Enforcer | None = None
    ) -> None:
        self._svc = svc
        self._bootstrapped = bootstrapped
        self._enforcer = enforcer

    def _enforce(self, ctx: RequestContext, rule: str, target: dict[str, Any]) -> None:
        if self._enforcer is None:
            raise errors.Forbidden(f"{rule} cannot be checked here.")
        self._enforcer.enforce(ctx, rule, {"target": target})

    async def _domain_id(self, ref: str | None) -> str:
        ref = ref or "default"
        try:
            return (await self._svc.resources.get_domain(ref)).id
        except errors.NotFound:
            return (await self._svc.resources.find_domain(ref)).id

    async def _role_id(self, ref: str) -> str:
        try:
            return (await self._svc.roles.get_role(ref)).id
        except errors.NotFound:
            found = await self._svc.roles.list_roles({"name": ref})
            if not found:
                raise
            return found[0].id

    async def create_project(self, ctx: RequestContext, values: dict[str, Any]) -> str:
        values = {**values, "domain_id": await self._domain_id(values.get("domain_id"))}
        self._enforce(ctx, "identity:create_project", {"project": {"domain_id":
                      values["domain_id"]}})  # fmt: skip
        project, _tags = await self._svc.resources.create_project(values)
        return project.id

    async def delete_project(self, ctx: RequestContext, project_id: str) -> None:
        project, _tags = await self._svc.resources.get_project(project_id)
        self._enforce(ctx, "identity:delete_project",
                      {"project": {"id": project.id, "domain_id": project.domain_id}})  # fmt: skip
        await self._svc.resources.delete_project(project_id)

    async def create_user(self, ctx: RequestContext, values: dict[str, Any]) -> str:
        values = {**values, "domain_id": await self._domain_id(values.get("domain_id"))}
        self._enforce(ctx, "identity:create_user", {"user": {"domain_id": values["domain_id"]}})
        return (await self._svc.users.create_user(values)).id

    async def delete_user(self, ctx: RequestContext, user_id: str) -> None:
        user = await self._svc.users.get_user(user_id)
        self._enforce(ctx, "identity:delete_user",
                      {"user": {"id": user.id, "domain_id": user.domain_id}})  # fmt: skip
        await self._svc.users.delete_user(user_id)

    async def create_role(self, ctx: RequestContext, values: dict[str, Any]) -> str:
        if values.get("domain_id"):
            values = {**values, "domain_id": await self._domain_id(values["domain_id"])}
        self._enforce(ctx, "identity:create_role", {"role": {"domain_id": values.get(
            "domain_id")}})  # fmt: skip
        return (await self._svc.roles.create_role(values)).id

    async def delete_role(self, ctx: RequestContext, role_id: str) -> None:
        self._enforce(ctx, "identity:delete_role", {"role": {"id": role_id}})
        await self._svc.roles.delete_role(role_id)

    async def grant_project_role(
        self, ctx: RequestContext, user_id: str, project_id: str, role: str
    ) -> None:
        role_id = await self._role_id(role)
        project, _tags = await self._svc.resources.get_project(project_id)
        self._enforce(ctx, "identity:create_grant", {"project": {"id": project.id,
                      "domain_id": project.domain_id}, "role": {"id": role_id}})  # fmt: skip
        await self._svc.assignments.grant("user", user_id, "project", project.id, role_id)

    @property
    def bootstrapped(self) -> Bootstrapped:
        return self._bootstrapped

    async def project_ids(self) -> list[str]:
        return [project.id for project, _ in await self._svc.resources.list_projects({})]

    async def project_exists(self, project_id: str) -> bool:
        try:
            await self._svc.resources.get_project(project_id)
        except errors.NotFound:
            return False
        return True

    async def create_application_credential(
        self, ctx: RequestContext, name: str, description: str
    ) -> tuple[str, str]:
        if ctx.project_id is None:
            raise errors.Forbidden("Application credentials need a project-scoped token.")
        if ctx.application_credential_id is not None and ctx.application_credential_restricted:
            raise errors.Forbidden(
                "A restricted application credential cannot create application credentials."
            )
        # As Heat's trusts delegate the trustor's roles: those held now, on the project.
        roles = await self._svc.assignments.effective_role_ids(
            ctx.user_id, "project", ctx.project_id
        )
        values: dict[str, Any] = {"name": name, "description": description}
        cred, secret = await self._svc.credentials.create_app_cred(
            ctx.user_id, ctx.project_id, values, sorted(roles)
        )
        return cred.id, secret
