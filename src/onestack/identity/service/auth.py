"""``POST /v3/auth/tokens``: who is this (password, token, application credential) and in which
scope (project, domain, system, unscoped), turned into a token payload."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onestack.common import errors
from onestack.common.db import utcnow
from onestack.identity import models as m
from onestack.identity.service.assignments import Assignments
from onestack.identity.service.credentials import Credentials
from onestack.identity.service.resources import Resources
from onestack.identity.service.roles import Roles
from onestack.identity.service.users import Users
from onestack.identity.tokens import TokenData, TokenProvider, new_audit_id, now_us

FAILED = "The request you have made requires authentication."


def _unauthorized(message: str = FAILED) -> errors.Unauthorized:
    return errors.Unauthorized(message)


def _check_ref(ref: Any, where: str, keys: tuple[str, ...] = ("id", "name")) -> None:
    """Keystone's auth schema: an object whose ``keys`` are strings when given (400 if not)."""
    if not isinstance(ref, dict):
        raise errors.ValidationError(field=where, reason="must be an object")
    for key in keys:
        if key in ref and not isinstance(ref[key], str):
            raise errors.ValidationError(field=f"{where}.{key}", reason="must be a string")
    if "domain" in ref:
        _check_ref(ref["domain"], f"{where}.domain")


def _check_body(identity: dict[str, Any], scope: Any) -> None:
    """Type errors in an auth body are the client's (400), whatever it authenticates with."""
    if not all(isinstance(method, str) for method in identity["methods"]):
        raise errors.ValidationError(field="auth.identity.methods", reason="must be strings")
    for method in ("password", "application_credential"):
        if method in identity:
            _check_ref(identity[method], method, ())
    user = identity.get("password", {}).get("user")
    if user is not None:
        _check_ref(user, "password.user", ("id", "name", "password"))
    app_cred = identity.get("application_credential", {})
    _check_ref(app_cred, "application_credential", ("id", "name", "secret"))
    if "user" in app_cred:
        _check_ref(app_cred["user"], "application_credential.user")
    if isinstance(scope, dict):
        for kind in ("project", "domain"):
            if kind in scope:
                _check_ref(scope[kind], f"scope.{kind}")


@dataclass
class Scope:
    kind: str | None = None  # "project" | "domain" | "system" | None (unscoped)
    project: dict[str, Any] = field(default_factory=dict)
    domain: dict[str, Any] = field(default_factory=dict)


class Authenticator:
    def __init__(
        self,
        users: Users,
        resources: Resources,
        roles: Roles,
        assignments: Assignments,
        credentials: Credentials,
        provider: TokenProvider,
        expiration: int,
    ) -> None:
        self.users = users
        self.resources = resources
        self.roles = roles
        self.assignments = assignments
        self.credentials = credentials
        self.provider = provider
        self.expiration = expiration

    async def _domain_of(self, ref: dict[str, Any]) -> m.Domain:
        try:
            if "id" in ref:
                return await self.resources.get_domain(ref["id"])
            if "name" in ref:
                return await self.resources.find_domain(ref["name"])
        except errors.NotFound:
            raise _unauthorized() from None
        raise errors.ValidationError(field="domain", reason="an id or a name is required")

    async def _user_from_ref(self, ref: dict[str, Any]) -> m.User | None:
        """The user a password or application credential names, or None (never says why)."""
        if "id" in ref:
            try:
                return await self.users.get_user(ref["id"])
            except errors.NotFound:
                return None
        if "name" in ref:
            if not isinstance(ref.get("domain"), dict):
                raise errors.ValidationError(
                    field="user.domain", reason="a user named by name needs its domain"
                )
            domain = await self._domain_of(ref["domain"])
            return await self.users.find_user(ref["name"], domain.id)
        raise errors.ValidationError(field="user", reason="an id or a name is required")

    async def _check_user_usable(self, user: m.User) -> m.Domain:
        domain = await self.resources.get_domain(user.domain_id)
        if not user.enabled or not domain.enabled:
            raise _unauthorized()
        return domain

    async def by_password(self, body: dict[str, Any]) -> tuple[m.User, list[str]]:
        ref = body.get("user")
        if not isinstance(ref, dict) or not isinstance(ref.get("password"), str):
            raise errors.ValidationError(
                field="password.user", reason="a user and a password are required"
            )
        user = await self._user_from_ref(ref)
        # The hash is checked even for an unknown user so the two cases look alike.
        if not await self.users.check_password(user, ref["password"]) or user is None:
            raise _unauthorized()
        await self._check_user_usable(user)
        if user.password_expires_at is not None and user.password_expires_at <= utcnow():
            raise _unauthorized("The password is expired and needs to be changed.")
        return user, ["password"]

    async def by_app_cred(self, body: dict[str, Any]) -> tuple[m.User, m.ApplicationCredential]:
        secret = body.get("secret")
        if not isinstance(secret, str):
            raise errors.ValidationError(
                field="application_credential.secret", reason="is required"
            )
        cred: m.ApplicationCredential | None = None
        if "id" in body:
            try:
                cred = await self.credentials.get_app_cred(str(body["id"]))
            except errors.NotFound:
                cred = None
        elif "name" in body and isinstance(body.get("user"), dict):
            owner = await self._user_from_ref(body["user"])
            cred = (
                await self.credentials.find_app_cred(owner.id, str(body["name"])) if owner else None
            )
        else:
            raise errors.ValidationError(
                field="application_credential", reason="an id, or a name and its user, is required"
            )
        if not await self.credentials.check_app_cred_secret(cred, secret) or cred is None:
            raise _unauthorized()
        if cred.expires_at is not None and cred.expires_at <= utcnow():
            raise _unauthorized()
        user = await self.users.get_user(cred.user_id)
        await self._check_user_usable(user)
        return user, cred

    async def _scope_from_body(self, scope: Any) -> Scope:
        if scope is None:
            return Scope()
        if scope == "unscoped":
            return Scope(kind="unscoped")
        if not isinstance(scope, dict):
            raise errors.ValidationError(field="scope", reason="must be an object or 'unscoped'")
        if "system" in scope:
            if scope["system"] != {"all": True}:
                raise errors.ValidationError(
                    field="scope.system", reason="only {'all': true} exists"
                )
            return Scope(kind="system")
        if "project" in scope and isinstance(scope["project"], dict):
            return Scope(kind="project", project=scope["project"])
        if "domain" in scope and isinstance(scope["domain"], dict):
            return Scope(kind="domain", domain=scope["domain"])
        raise errors.ValidationError(
            field="scope", reason="a project, domain or system is required"
        )

    async def _resolve_project(self, ref: dict[str, Any]) -> m.Project:
        try:
            if "id" in ref:
                project, _ = await self.resources.get_project(str(ref["id"]))
                return project
            if "name" in ref and isinstance(ref.get("domain"), dict):
                domain = await self._domain_of(ref["domain"])
                return await self.resources.find_project(str(ref["name"]), domain.id)
        except errors.NotFound:
            raise _unauthorized() from None
        raise errors.ValidationError(
            field="scope.project", reason="an id, or a name and domain, is required"
        )

    async def _named_roles(self, role_ids: set[str]) -> list[tuple[str, str]]:
        roles = await self.roles.roles_by_id(role_ids)
        return sorted(((r.id, r.name) for r in roles.values()), key=lambda x: x[1])

    async def authenticate(self, auth: dict[str, Any]) -> TokenData:
        identity = auth.get("identity")
        if not isinstance(identity, dict) or not isinstance(identity.get("methods"), list):
            raise errors.ValidationError(field="auth.identity.methods", reason="is required")
        _check_body(identity, auth.get("scope"))
        methods: list[str] = identity["methods"]
        scope = await self._scope_from_body(auth.get("scope"))
        now = now_us()
        expires = now + self.expiration * 1_000_000
        audit_ids = [new_audit_id()]
        app_cred: m.ApplicationCredential | None = None
        if "application_credential" in methods:
            if len(methods) != 1:
                raise _unauthorized()
            user, app_cred = await self.by_app_cred(identity.get("application_credential") or {})
            if scope.kind is not None:
                raise errors.Forbidden(
                    "Application credentials cannot request a scope: "
                    "they are bound to their project."
                )
            scope = Scope(kind="project", project={"id": app_cred.project_id})
            methods = ["application_credential"]
            if app_cred.expires_at is not None:
                cap = int(app_cred.expires_at.timestamp() * 1_000_000)
                expires = min(expires, cap)
        elif "token" in methods:
            ref = identity.get("token") or {}
            if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
                raise errors.ValidationError(field="token.id", reason="is required")
            original = self.provider.decode(ref["id"])
            if original.app_cred is not None:
                raise errors.Forbidden(
                    "A token created with an application credential cannot be rescoped."
                )
            user = await self.users.get_user(original.user_id)
            await self._check_user_usable(user)
            methods = list(dict.fromkeys(["token", *original.methods]))
            expires = original.expires_at_us
            audit_ids = [new_audit_id(), original.audit_ids[-1]]
        elif "password" in methods:
            user, methods = await self.by_password(identity.get("password") or {})
        else:
            raise _unauthorized("Attempted to authenticate with an unsupported method.")

        user_domain = await self.resources.get_domain(user.domain_id)
        data = TokenData(
            user_id=user.id,
            user_name=user.name,
            user_domain_id=user_domain.id,
            user_domain_name=user_domain.name,
            methods=methods,
            issued_at_us=now,
            expires_at_us=expires,
            audit_ids=audit_ids,
            password_expires_at_us=(
                int(user.password_expires_at.timestamp() * 1_000_000)
                if user.password_expires_at
                else None
            ),
        )
        if scope.kind is None and user.default_project_id:
            # Keystone scopes to the default project when the user still has a role there.
            try:
                project, _ = await self.resources.get_project(user.default_project_id)
                if project.enabled and await self.assignments.effective_role_ids(
                    user.id, "project", project.id
                ):
                    scope = Scope(kind="project", project={"id": project.id})
            except errors.NotFound:
                pass
        if scope.kind == "project":
            project = await self._resolve_project(scope.project)
            domain = await self.resources.get_domain(project.domain_id)
            if not project.enabled or not domain.enabled:
                raise _unauthorized()
            role_ids = await self.assignments.effective_role_ids(user.id, "project", project.id)
            if app_cred is not None:
                role_ids &= set(app_cred.roles)
            if not role_ids:
                raise _unauthorized(f"User {user.id} has no access to project {project.id}.")
            data.project_id, data.project_name = project.id, project.name
            data.project_domain_id, data.project_domain_name = domain.id, domain.name
            data.roles = await self._named_roles(role_ids)
        elif scope.kind == "domain":
            domain = await self._domain_of(scope.domain)
            if not domain.enabled:
                raise _unauthorized()
            role_ids = await self.assignments.effective_role_ids(user.id, "domain", domain.id)
            if not role_ids:
                raise _unauthorized(f"User {user.id} has no access to domain {domain.id}.")
            data.domain_id, data.domain_name = domain.id, domain.name
            data.roles = await self._named_roles(role_ids)
        elif scope.kind == "system":
            role_ids = await self.assignments.effective_role_ids(user.id, "system", "system")
            if not role_ids:
                raise _unauthorized(f"User {user.id} has no access to the system.")
            data.system = True
            data.roles = await self._named_roles(role_ids)
        if app_cred is not None:
            data.app_cred = (app_cred.id, app_cred.name, not app_cred.unrestricted)
        return data
