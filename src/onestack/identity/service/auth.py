"""``POST /v3/auth/tokens``: who is this (password, token, application credential) and in which
scope (project, domain, system, unscoped), turned into a token payload."""

from __future__ import annotations

import asyncio

from onestack.common import errors
from onestack.common.db import utcnow
from onestack.identity import models, schemas
from onestack.identity.service.assignments import Assignments
from onestack.identity.service.credentials import Credentials
from onestack.identity.service.oauth1 import OAuth1, SignedRequest
from onestack.identity.service.resources import Resources
from onestack.identity.service.roles import Roles
from onestack.identity.service.trusts import Trusts
from onestack.identity.service.users import Users
from onestack.identity.tokens import TokenData, TokenProvider, new_audit_id, now_us

FAILED = "The request you have made requires authentication."


def _unauthorized(message: str = FAILED) -> errors.Unauthorized:
    return errors.Unauthorized(message)


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
        trusts: Trusts,
        oauth1: OAuth1,
    ) -> None:
        self.users = users
        self.resources = resources
        self.roles = roles
        self.assignments = assignments
        self.credentials = credentials
        self.provider = provider
        self.expiration = expiration
        self.trusts = trusts
        self.oauth1 = oauth1

    async def _domain_of(self, ref: schemas.DomainRef) -> models.Domain:
        try:
            if ref.id is not None:
                return await self.resources.get_domain(ref.id)
            return await self.resources.find_domain(str(ref.name))
        except errors.NotFound:
            raise _unauthorized() from None

    async def _user_from_ref(self, ref: schemas.UserRef) -> models.User | None:
        """The user a password or application credential names, or None (never says why)."""
        if ref.id is not None:
            try:
                return await self.users.get_user(ref.id)
            except errors.NotFound:
                return None
        assert ref.domain is not None  # the schema requires it for a name
        domain = await self._domain_of(ref.domain)
        return await self.users.find_user(str(ref.name), domain.id)

    async def _check_user_usable(self, user: models.User) -> models.Domain:
        domain = await self.resources.get_domain(user.domain_id)
        if not user.enabled or not domain.enabled:
            raise _unauthorized()
        return domain

    async def by_password(
        self, method: schemas.PasswordMethod | None
    ) -> tuple[models.User, asyncio.Task[bool]]:
        """The user a password names and the check of that password, started, not awaited:
        the hash (a quarter of a second at Keystone's cost, on a worker thread) runs while
        the caller reads the token's scope. Nothing may be answered or written before
        ``_proven(check)``. An unknown user's check (of a decoy hash) is awaited here."""
        if method is None:
            raise errors.ValidationError(field="identity.password", reason="is required")
        user = await self._user_from_ref(method.user)
        # The hash is checked even for an unknown user so the two cases look alike.
        check = asyncio.ensure_future(self.users.check_password(user, method.user.password))
        if user is None:
            await check
            raise _unauthorized()
        return user, check

    @staticmethod
    async def _proven(check: asyncio.Task[bool]) -> None:
        if not await check:
            raise _unauthorized()

    async def _password_user_usable(self, user: models.User) -> None:
        await self._check_user_usable(user)
        if user.password_expires_at is not None and user.password_expires_at <= utcnow():
            raise _unauthorized("The password is expired and needs to be changed.")

    async def by_app_cred(
        self, method: schemas.AppCredMethod | None
    ) -> tuple[models.User, models.ApplicationCredential]:
        if method is None:
            raise errors.ValidationError(
                field="identity.application_credential", reason="is required"
            )
        cred: models.ApplicationCredential | None = None
        if method.id is not None:
            try:
                cred = await self.credentials.get_app_cred(method.id)
            except errors.NotFound:
                cred = None
        else:
            assert method.user is not None  # the schema requires it for a name
            owner = await self._user_from_ref(method.user)
            if owner is not None:
                cred = await self.credentials.find_app_cred(owner.id, str(method.name))
        if not await self.credentials.check_app_cred_secret(cred, method.secret) or cred is None:
            raise _unauthorized()
        if cred.expires_at is not None and cred.expires_at <= utcnow():
            raise _unauthorized()
        user = await self.users.get_user(cred.user_id)
        await self._check_user_usable(user)
        return user, cred

    async def _resolve_project(self, ref: schemas.ProjectRef) -> models.Project:
        try:
            if ref.id is not None:
                project, _ = await self.resources.get_project(ref.id)
                return project
            assert ref.domain is not None  # the schema requires it for a name
            domain = await self._domain_of(ref.domain)
            return await self.resources.find_project(str(ref.name), domain.id)
        except errors.NotFound:
            raise _unauthorized() from None

    async def _named_roles(self, role_ids: set[str]) -> list[tuple[str, str]]:
        roles = await self.roles.roles_by_id(role_ids)
        return sorted(((r.id, r.name) for r in roles.values()), key=lambda x: x[1])

    async def _identify(
        self, identity: schemas.AuthIdentity, signed: SignedRequest | None
    ) -> tuple[
        models.User,
        list[str],
        models.ApplicationCredential | None,
        TokenData | None,
        asyncio.Task[bool] | None,
    ]:
        """Who is asking: the user, the methods for the token, what they came with, and the
        password check still running (see ``by_password``)."""
        methods = identity.methods
        if "oauth1" in methods:
            if len(methods) != 1 or signed is None:
                raise _unauthorized()
            user = await self.users.get_user(await self.oauth1.access_token_user(signed))
            await self._check_user_usable(user)
            return user, ["oauth1"], None, None, None
        if "application_credential" in methods:
            if len(methods) != 1:
                raise _unauthorized()
            user, app_cred = await self.by_app_cred(identity.application_credential)
            return user, ["application_credential"], app_cred, None, None
        if "token" in methods:
            if identity.token is None:
                raise errors.ValidationError(field="identity.token", reason="is required")
            original = self.provider.decode(identity.token.id)
            if original.app_cred is not None:
                raise errors.Forbidden(
                    "A token created with an application credential cannot be rescoped."
                )
            if original.oauth is not None:
                raise errors.Forbidden(
                    "Using OAuth-scoped token to create another token. "
                    "Create a new OAuth-scoped token instead"
                )
            if original.trust is not None:
                raise errors.Forbidden(
                    "Using trust-scoped token to create another token. "
                    "Create a new trust-scoped token instead"
                )
            user = await self.users.get_user(original.user_id)
            await self._check_user_usable(user)
            return user, list(dict.fromkeys(["token", *original.methods])), None, original, None
        if "password" in methods:
            user, check = await self.by_password(identity.password)
            return user, ["password"], None, None, check
        raise _unauthorized("Attempted to authenticate with an unsupported method.")

    async def _default_scope(self, user: models.User) -> schemas.AuthScope | None:
        """Keystone scopes to the default project when the user still has a role there."""
        if not user.default_project_id:
            return None
        try:
            project, _ = await self.resources.get_project(user.default_project_id)
        except errors.NotFound:
            return None
        if project.enabled and await self.assignments.effective_role_ids(
            user.id, "project", project.id
        ):
            return schemas.AuthScope(project=schemas.ProjectRef(id=project.id))
        return None

    async def authenticate(
        self, auth: schemas.AuthRequest, signed: SignedRequest | None = None
    ) -> TokenData:
        """``signed``: the request's URL and headers, for methods that sign the request."""
        user, methods, app_cred, original, check = await self._identify(auth.identity, signed)
        if check is None:
            return await self._token_data(auth, signed, user, methods, app_cred, original, None)
        # A password token's reads (the user's state, its scope and roles: ~9 ms of SQLite
        # round trips) run beside the hash, not after it; the hash's verdict still comes
        # first: whatever they found, a wrong password learns only that it is wrong.
        try:
            data = await self._token_data(auth, signed, user, methods, app_cred, original, check)
        except Exception:
            await self._proven(check)
            raise
        except BaseException:
            check.cancel()
            raise
        await self._proven(check)
        return data

    async def _token_data(
        self,
        auth: schemas.AuthRequest,
        signed: SignedRequest | None,
        user: models.User,
        methods: list[str],
        app_cred: models.ApplicationCredential | None,
        original: TokenData | None,
        check: asyncio.Task[bool] | None,
    ) -> TokenData:
        """The payload of the token ``authenticate`` issues. With a password ``check``
        still running, only reads come before ``_proven(check)``."""
        if check is not None:
            await self._password_user_usable(user)
        now = now_us()
        expires = now + self.expiration * 1_000_000
        audit_ids = [new_audit_id()]
        if original is not None:  # a rescoped token lives no longer than the one it came from
            expires = original.expires_at_us
            audit_ids.append(original.audit_ids[-1])
        scope = auth.scope
        if app_cred is not None:
            if scope is not None:
                raise errors.Forbidden(
                    "Application credentials cannot request a scope: "
                    "they are bound to their project."
                )
            scope = schemas.AuthScope(project=schemas.ProjectRef(id=app_cred.project_id))
            if app_cred.expires_at is not None:
                expires = min(expires, int(app_cred.expires_at.timestamp() * 1_000_000))
        elif scope is None:
            scope = await self._default_scope(user)

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
        if methods == ["oauth1"]:  # always the access token's project, whatever was asked
            assert signed is not None
            return await self.oauth1.scope_token(data, signed)
        # A federated token's groups come from the assertion, not memberships: they go on.
        groups: list[str] = []
        if original is not None and original.federation is not None:
            data.federation = original.federation
            groups = list(original.federation[2])
        if not isinstance(scope, schemas.AuthScope):
            return data  # unscoped
        if scope.trust is not None:
            if check is not None:  # not a read only: a trust may count its uses
                await self._proven(check)
            return await self.trusts.scope_token(data, scope.trust.id)
        role_ids = await self._scope_roles(data, user.id, scope, groups, app_cred)
        data.roles = await self._named_roles(role_ids)
        if app_cred is not None:
            data.app_cred = (app_cred.id, app_cred.name, not app_cred.unrestricted)
        return data

    async def _scope_roles(
        self,
        data: TokenData,
        user_id: str,
        scope: schemas.AuthScope,
        groups: list[str],
        app_cred: models.ApplicationCredential | None,
    ) -> set[str]:
        """The roles ``user_id`` (with the assertion's ``groups``) holds on the project,
        domain or system ``scope`` names, that scope written into ``data``; 401 when none."""
        if scope.project is not None:
            project = await self._resolve_project(scope.project)
            domain = await self.resources.get_domain(project.domain_id)
            if not project.enabled or not domain.enabled:
                raise _unauthorized()
            role_ids = await self.assignments.effective_role_ids(
                user_id, "project", project.id, groups
            )
            if app_cred is not None:
                role_ids &= set(app_cred.roles)
            if not role_ids:
                raise _unauthorized(f"User {user_id} has no access to project {project.id}.")
            data.project_id, data.project_name = project.id, project.name
            data.project_domain_id, data.project_domain_name = domain.id, domain.name
        elif scope.domain is not None:
            domain = await self._domain_of(scope.domain)
            if not domain.enabled:
                raise _unauthorized()
            role_ids = await self.assignments.effective_role_ids(
                user_id, "domain", domain.id, groups
            )
            if not role_ids:
                raise _unauthorized(f"User {user_id} has no access to domain {domain.id}.")
            data.domain_id, data.domain_name = domain.id, domain.name
        else:
            role_ids = await self.assignments.effective_role_ids(
                user_id, "system", "system", groups
            )
            if not role_ids:
                raise _unauthorized(f"User {user_id} has no access to the system.")
            data.system = True
        return role_ids
