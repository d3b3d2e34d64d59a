"""OAuth1 delegation (OS-OAUTH1), as Keystone's: consumers; request tokens a consumer asks for
on a project; a user's authorization of one with some of their roles there (a verifier); the
access token traded for it; and project-scoped tokens the consumer gets with that access
token. Deleting an access token or a consumer revokes the tokens issued through it."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from onestack.common import errors
from onestack.common.db import utcnow
from onestack.identity import models
from onestack.identity.keys import KeyRepository
from onestack.identity.oauth_signature import (
    Known,
    new_verifier,
    oauth_params,
)
from onestack.identity.service.assignments import Assignments
from onestack.identity.service.base import IdentityContext, must_get
from onestack.identity.service.resources import Resources
from onestack.identity.service.revocations import Revocations
from onestack.identity.service.roles import Roles
from onestack.identity.tokens import TokenData


@dataclass(frozen=True)
class SignedRequest:
    """What a signature covers: the URL the client addressed and its headers."""

    url: str
    headers: Mapping[str, str]

    def oauth(self) -> dict[str, str]:
        return oauth_params(self.headers.get("authorization"))


def _expiry(seconds: int) -> datetime | None:
    return utcnow() + timedelta(seconds=seconds) if seconds > 0 else None


def _expired(at: datetime | None) -> bool:
    return at is not None and at <= utcnow()


class OAuth1:
    def __init__(
        self,
        context: IdentityContext,
        keys: KeyRepository,
        revocations: Revocations,
        resources: Resources,
        roles: Roles,
        assignments: Assignments,
    ) -> None:
        self.context = context
        self.keys = keys
        self.revocations = revocations
        self.resources = resources
        self.roles = roles
        self.assignments = assignments

    def _seal(self, secret: str) -> str:
        return self.keys.fernet().encrypt(secret.encode()).decode()

    def _open(self, sealed: str) -> str:
        return self.keys.fernet().decrypt(sealed.encode()).decode()

    # --- consumers -------------------------------------------------------------------------
    async def create_consumer(self, values: dict[str, Any]) -> tuple[models.OAuthConsumer, str]:
        secret = secrets.token_hex(32)
        extra = {k: v for k, v in values.items() if k not in ("description", "secret")}
        consumer = models.OAuthConsumer(
            id=models.new_id(),
            description=values.get("description"),
            encrypted_secret=self._seal(secret),
            extra=extra,
        )
        async with self.context.db.session() as s:
            s.add(consumer)
        await self.context.notify("OS-OAUTH1:consumer.created", consumer.id)
        return consumer, secret

    async def get_consumer(self, consumer_id: str) -> models.OAuthConsumer:
        async with self.context.db.session() as s:
            return await must_get(s, models.OAuthConsumer, consumer_id, "consumer")

    async def list_consumers(self) -> Sequence[models.OAuthConsumer]:
        async with self.context.db.session() as s:
            return (
                await s.scalars(select(models.OAuthConsumer).order_by(models.OAuthConsumer.id))
            ).all()

    async def update_consumer(
        self, consumer_id: str, changes: dict[str, Any]
    ) -> models.OAuthConsumer:
        if "secret" in changes:
            raise errors.BadRequest("Cannot change consumer secret")
        async with self.context.db.session() as s:
            consumer = await must_get(s, models.OAuthConsumer, consumer_id, "consumer")
            if "description" in changes:
                consumer.description = changes["description"]
            consumer.extra = {
                **(consumer.extra or {}),
                **{k: v for k, v in changes.items() if k != "description"},
            }
        return consumer

    async def delete_consumer(self, consumer_id: str) -> None:
        """The consumer, its request and access tokens, and every token issued through them."""
        async with self.context.db.session() as s:
            await must_get(s, models.OAuthConsumer, consumer_id, "consumer")
            for model in (models.OAuthRequestToken, models.OAuthAccessToken):
                await s.execute(delete(model).where(model.consumer_id == consumer_id))
            await s.execute(
                delete(models.OAuthConsumer).where(models.OAuthConsumer.id == consumer_id)
            )
        await self.revocations.record(consumer_id=consumer_id)
        await self.context.notify("OS-OAUTH1:consumer.deleted", consumer_id)

    # --- what a signed request names -------------------------------------------------------
    async def _known(self, params: dict[str, str], token_kind: str | None) -> Known:
        known = Known()
        async with self.context.db.session() as s:
            consumer = await s.get(models.OAuthConsumer, params.get("oauth_consumer_key", ""))
            if consumer is not None:
                known.consumers[consumer.id] = self._open(consumer.encrypted_secret)
            token_id = params.get("oauth_token", "")
            if token_kind == "request":
                req = await s.get(models.OAuthRequestToken, token_id)
                if req is not None and not _expired(req.expires_at):
                    known.request_tokens[req.id] = (
                        self._open(req.encrypted_secret),
                        req.consumer_id,
                        req.verifier,
                    )
            elif token_kind == "access":
                acc = await s.get(models.OAuthAccessToken, token_id)
                if acc is not None and not _expired(acc.expires_at):
                    known.access_tokens[acc.id] = (
                        self._open(acc.encrypted_secret),
                        acc.consumer_id,
                    )
        return known

    # --- the flow --------------------------------------------------------------------------
    async def create_request_token(
        self, request: SignedRequest, project_id: str | None
    ) -> models.OAuthRequestToken:
        params = request.oauth()
        consumer_id = params.get("oauth_consumer_key")
        if not consumer_id:
            raise errors.ValidationError(field="oauth_consumer_key", reason="is required")
        if not project_id:
            raise errors.ValidationError(field="Requested-Project-Id", reason="is required")
        await self.resources.get_project(project_id)
        await self.get_consumer(consumer_id)
        from onestack.identity.oauth_validator import signed_request_token  # oauthlib, lazily

        minted = signed_request_token(await self._known(params, None), request.url, request.headers)
        if minted is None:
            raise errors.Unauthorized("Invalid signature")
        key, secret = minted
        token = models.OAuthRequestToken(
            id=key,
            encrypted_secret=self._seal(secret),
            consumer_id=consumer_id,
            requested_project_id=project_id,
            expires_at=_expiry(self.context.settings.oauth1_request_token_duration),
        )
        async with self.context.db.session() as s:
            s.add(token)
        token.encrypted_secret = secret  # handed back once, never stored in clear
        return token

    async def authorize_request_token(
        self, token_id: str, user_id: str, roles: Sequence[dict[str, Any]]
    ) -> str:
        """Bind the request token to the user and some of their roles on its project; the
        verifier the consumer shows to trade it."""
        async with self.context.db.session() as s:
            req = await must_get(s, models.OAuthRequestToken, token_id, "request token")
        if _expired(req.expires_at):
            raise errors.Unauthorized("Request token is expired")
        wanted: set[str] = set()
        for ref in roles:
            if ref.get("id"):
                wanted.add(str(ref["id"]))
            else:
                role = await self.roles.find_global_role(str(ref.get("name")))
                if role is None:
                    raise errors.NotFound(f"Could not find role: {ref.get('name')}.")
                wanted.add(role.id)
        held = await self.assignments.effective_role_ids(
            user_id, "project", req.requested_project_id
        )
        if not wanted <= held:
            raise errors.Unauthorized("authorizing user does not have role required")
        verifier = new_verifier()
        async with self.context.db.session() as s:
            row = await must_get(s, models.OAuthRequestToken, token_id, "request token")
            row.authorizing_user_id = user_id
            row.role_ids = sorted(wanted)
            row.verifier = verifier
        return verifier

    async def create_access_token(self, request: SignedRequest) -> models.OAuthAccessToken:
        params = request.oauth()
        for name in ("oauth_consumer_key", "oauth_token", "oauth_verifier"):
            if not params.get(name):
                raise errors.ValidationError(field=name, reason="is required")
        async with self.context.db.session() as s:
            req = await must_get(
                s, models.OAuthRequestToken, params["oauth_token"], "request token"
            )
        if _expired(req.expires_at):
            raise errors.Unauthorized("Request token is expired")
        if req.consumer_id != params["oauth_consumer_key"]:
            raise errors.Unauthorized("Provided consumer key does not match stored consumer key.")
        from onestack.identity.oauth_validator import signed_access_token

        minted = signed_access_token(
            await self._known(params, "request"), request.url, request.headers
        )
        if minted is None:
            if req.verifier != params["oauth_verifier"]:
                raise errors.Unauthorized("Provided verifier does not match stored verifier")
            raise errors.Unauthorized("Invalid signature")
        if not req.authorizing_user_id:
            raise errors.Unauthorized("Request Token does not have an authorizing user id.")
        key, secret = minted
        token = models.OAuthAccessToken(
            id=key,
            encrypted_secret=self._seal(secret),
            consumer_id=req.consumer_id,
            project_id=req.requested_project_id,
            authorizing_user_id=req.authorizing_user_id,
            role_ids=list(req.role_ids or []),
            expires_at=_expiry(self.context.settings.oauth1_access_token_duration),
        )
        async with self.context.db.session() as s:
            gone = await s.execute(
                delete(models.OAuthRequestToken).where(models.OAuthRequestToken.id == req.id)
            )
            if getattr(gone, "rowcount", 1) == 0:  # traded by a concurrent request
                raise errors.Unauthorized("Invalid signature")
            s.add(token)
        await self.context.notify("OS-OAUTH1:access_token.created", token.id)
        token.encrypted_secret = secret
        return token

    async def scope_token(self, data: TokenData, request: SignedRequest) -> TokenData:
        """The ``oauth1`` auth method: ``data`` (the user's, unscoped) scoped to the access
        token's project with its roles that the user still holds."""
        params = request.oauth()
        token_id = params.get("oauth_token")
        if not token_id:
            raise errors.ValidationError(field="oauth_token", reason="is required")
        async with self.context.db.session() as s:
            acc = await s.get(models.OAuthAccessToken, token_id)
        if acc is None:
            raise errors.Unauthorized("Could not validate the access token")
        if _expired(acc.expires_at):
            raise errors.Unauthorized("Access token is expired")
        known = await self._known(params, "access")
        from onestack.identity.oauth_validator import signed_with_access_token

        if not signed_with_access_token(known, request.url, request.headers):
            raise errors.Unauthorized("Could not validate the access token")
        project, _ = await self.resources.get_project(acc.project_id)
        domain = await self.resources.get_domain(project.domain_id)
        if not project.enabled or not domain.enabled:
            raise errors.Unauthorized("The request you have made requires authentication.")
        held = await self.assignments.effective_role_ids(
            acc.authorizing_user_id, "project", project.id
        )
        role_ids = (await self.roles.expand(acc.role_ids)) & held
        roles = await self.roles.roles_by_id(await self.roles.global_only(role_ids))
        if not roles:
            raise errors.Unauthorized(f"User {data.user_id} has no access to project {project.id}.")
        data.project_id, data.project_name = project.id, project.name
        data.project_domain_id, data.project_domain_name = domain.id, domain.name
        data.roles = sorted(((r.id, r.name) for r in roles.values()), key=lambda x: x[1])
        if acc.expires_at is not None:
            data.expires_at_us = min(
                data.expires_at_us, int(acc.expires_at.timestamp() * 1_000_000)
            )
        data.oauth = (acc.id, acc.consumer_id)
        return data

    async def access_token_user(self, request: SignedRequest) -> str:
        """The authorizing user of the access token a request names (checked later)."""
        token_id = request.oauth().get("oauth_token")
        if not token_id:
            raise errors.ValidationError(field="oauth_token", reason="is required")
        async with self.context.db.session() as s:
            acc = await s.get(models.OAuthAccessToken, token_id)
        if acc is None:
            raise errors.Unauthorized("Could not validate the access token")
        return acc.authorizing_user_id

    # --- a user's access tokens ------------------------------------------------------------
    async def list_access_tokens(self, user_id: str) -> list[models.OAuthAccessToken]:
        async with self.context.db.session() as s:
            rows = await s.scalars(
                select(models.OAuthAccessToken)
                .where(models.OAuthAccessToken.authorizing_user_id == user_id)
                .order_by(models.OAuthAccessToken.id)
            )
            return list(rows.all())

    async def get_access_token(self, user_id: str, token_id: str) -> models.OAuthAccessToken:
        async with self.context.db.session() as s:
            row = await s.get(models.OAuthAccessToken, token_id)
        if row is None or row.authorizing_user_id != user_id:
            raise errors.NotFound(f"Could not find access token: {token_id}.")
        return row

    async def delete_access_token(self, user_id: str, token_id: str) -> None:
        await self.get_access_token(user_id, token_id)
        async with self.context.db.session() as s:
            await s.execute(
                delete(models.OAuthAccessToken).where(models.OAuthAccessToken.id == token_id)
            )
        await self.revocations.record(access_token_id=token_id)
        await self.context.notify("OS-OAUTH1:access_token.deleted", token_id)

    async def on_event(self, event_type: str, payload: dict[str, Any]) -> None:
        """A deleted user's or project's request and access tokens go with it (Keystone's
        callbacks); the tokens issued through them already died with the user or project."""
        resource = str(payload.get("resource_info", ""))
        async with self.context.db.session() as s:
            if event_type == "identity.user.deleted":
                await s.execute(
                    delete(models.OAuthAccessToken).where(
                        models.OAuthAccessToken.authorizing_user_id == resource
                    )
                )
                await s.execute(
                    delete(models.OAuthRequestToken).where(
                        models.OAuthRequestToken.authorizing_user_id == resource
                    )
                )
            elif event_type == "identity.project.deleted":
                await s.execute(
                    delete(models.OAuthAccessToken).where(
                        models.OAuthAccessToken.project_id == resource
                    )
                )
                await s.execute(
                    delete(models.OAuthRequestToken).where(
                        models.OAuthRequestToken.requested_project_id == resource
                    )
                )
