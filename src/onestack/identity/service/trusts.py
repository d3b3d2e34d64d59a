"""Trusts (OS-TRUST): a trustor delegates some of its roles on a project to a trustee, who
may then get tokens scoped to the trust; redelegation chains as Keystone's trust manager."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import aliased

from onestack.common import errors
from onestack.common.db import utcnow
from onestack.identity import models
from onestack.identity.service.assignments import Assignments
from onestack.identity.service.base import IdentityContext
from onestack.identity.service.resources import Resources
from onestack.identity.service.roles import Roles
from onestack.identity.service.users import Users
from onestack.identity.tokens import TokenData

MAX_REDELEGATION_COUNT = 3  # Keystone's [trust] max_redelegation_count default


def _forbidden(message: str) -> errors.Forbidden:
    return errors.Forbidden(message)


def _not_found(trust_id: str) -> errors.NotFound:
    return errors.NotFound(f"Could not find trust: {trust_id}.")


class Trusts:
    def __init__(
        self,
        context: IdentityContext,
        revoke: Any,
        users: Users,
        resources: Resources,
        roles: Roles,
        assignments: Assignments,
    ) -> None:
        self.context = context
        self.revoke = revoke
        self.users = users
        self.resources = resources
        self.roles = roles
        self.assignments = assignments

    # --- reading ---------------------------------------------------------------------------
    async def _row(self, trust_id: str) -> models.Trust | None:
        """The trust unless deleted, or gone with its trustor, trustee or project (their
        deletion also deletes it, a moment later, through the notification)."""
        async with self.context.db.session() as s:
            row = await s.get(models.Trust, trust_id)
            if row is None or row.deleted_at is not None:
                return None
            for user_id in (row.trustor_user_id, row.trustee_user_id):
                if await s.get(models.User, user_id) is None:
                    return None
            if row.project_id and await s.get(models.Project, row.project_id) is None:
                return None
        return row

    async def get(self, trust_id: str) -> models.Trust:
        """A usable trust: not deleted, not expired, uses left, a valid chain; else 404."""
        trust = await self._row(trust_id)
        if trust is None:
            raise _not_found(trust_id)
        if trust.expires_at is not None and trust.expires_at <= utcnow():
            raise _not_found(trust_id)
        if trust.remaining_uses is not None and trust.remaining_uses <= 0:
            raise _not_found(trust_id)
        if trust.redelegated_trust_id:
            chain = await self.pedigree(trust)
            for parent, child in zip(chain[1:], chain, strict=False):
                self._check_redelegation(parent, child.expires_at, child.roles, child)
                try:
                    trustee = await self.users.get_user(parent.trustee_user_id)
                except errors.NotFound:
                    trustee = None
                if trustee is None or not trustee.enabled:
                    raise _forbidden("One of the trust agents is disabled or deleted")
        return trust

    async def pedigree(self, trust: models.Trust) -> list[models.Trust]:
        """The trust and the trusts it was redelegated from, the original last."""
        chain = [trust]
        while chain[-1].redelegated_trust_id:
            parent = await self._row(str(chain[-1].redelegated_trust_id))
            if parent is None:
                raise _not_found(str(chain[-1].redelegated_trust_id))
            chain.append(parent)
        return chain

    async def list_trusts(
        self, trustor: str | None = None, trustee: str | None = None
    ) -> list[models.Trust]:
        trustor_user = aliased(models.User)
        trustee_user = aliased(models.User)
        stmt = (
            select(models.Trust)
            .join(trustor_user, trustor_user.id == models.Trust.trustor_user_id)
            .join(trustee_user, trustee_user.id == models.Trust.trustee_user_id)
            .where(models.Trust.deleted_at.is_(None))
        )
        if trustor is not None:
            stmt = stmt.where(models.Trust.trustor_user_id == trustor)
        if trustee is not None:
            stmt = stmt.where(models.Trust.trustee_user_id == trustee)
        now = utcnow()
        stmt = stmt.where(or_(models.Trust.expires_at.is_(None), models.Trust.expires_at > now))
        async with self.context.db.session() as s:
            return list((await s.scalars(stmt.order_by(models.Trust.created_at))).all())

    async def roles_of(self, trust: models.Trust) -> list[models.Role]:
        found = await self.roles.roles_by_id(trust.roles)
        return [found[r] for r in trust.roles if r in found]

    # --- creating --------------------------------------------------------------------------
    async def _role_ids(self, refs: Sequence[dict[str, Any]]) -> list[str]:
        """Role references (id or a global role's name) as ids, in order, without repeats."""
        out: list[str] = []
        for ref in refs:
            if ref.get("id"):
                role = await self.roles.get_role(str(ref["id"]))
            else:
                found = await self.roles.find_global_role(str(ref.get("name")))
                if found is None:
                    raise errors.NotFound(f"Could not find role: {ref.get('name')}.")
                role = found
            if role.id not in out:
                out.append(role.id)
        return out

    @staticmethod
    def _check_redelegation(
        parent: models.Trust, expires_at: datetime | None, role_ids: Sequence[str], child: Any
    ) -> None:
        """Keystone's rules for a trust made from ``parent`` (``child``: its other fields)."""
        if not 0 < parent.redelegation_count <= MAX_REDELEGATION_COUNT:
            raise _forbidden(
                f"Remaining redelegation depth of {parent.redelegation_count} out of allowed "
                f"range of [0..{MAX_REDELEGATION_COUNT}]"
            )
        if getattr(child, "remaining_uses", None) is not None:
            raise _forbidden(
                'Field "remaining_uses" is set while it must not be set in order to '
                "redelegate a trust"
            )
        limit = parent.expires_at
        if limit is not None and expires_at is not None and limit < expires_at:
            raise _forbidden("Requested expiration time is more than redelegated trust can provide")
        if not set(role_ids) <= set(parent.roles):
            raise _forbidden("Some of requested roles are not in redelegated trust")
        if getattr(child, "impersonation", False) and not parent.impersonation:
            raise _forbidden(
                "Impersonation is not allowed because redelegated trust does not specify "
                f"impersonation. Redelegated trust id: {parent.id}"
            )

    async def _trustor_holds(
        self, values: dict[str, Any], trustor: str, role_ids: list[str]
    ) -> None:
        project_id = values.get("project_id")
        if not project_id:
            if role_ids:
                raise errors.NotFound(f"Could not find role: {role_ids[0]}.")
            return
        await self.resources.get_project(project_id)
        held = await self.assignments.effective_role_ids(trustor, "project", project_id)
        for role_id in role_ids:
            if role_id not in held:
                raise errors.NotFound(f"Could not find role: {role_id}.")

    async def create(self, values: dict[str, Any], redelegated_from: str | None) -> models.Trust:
        """A new trust from the validated body; ``redelegated_from``: the caller's trust."""
        if values.get("project_id") and not values.get("roles"):
            raise _forbidden("At least one role should be specified")
        await self.users.get_user(values["trustee_user_id"])
        role_ids = await self._role_ids(values.get("roles") or [])
        parent = await self.get(redelegated_from) if redelegated_from else None
        # A redelegated trust delegates the original trustor's roles on the original project.
        origin = (await self.pedigree(parent))[-1] if parent is not None else None
        await self._trustor_holds(
            values, origin.trustor_user_id if origin else values["trustor_user_id"], role_ids
        )
        count = self._redelegation_count(values, parent)
        expires_at: datetime | None = values.get("expires_at")
        if parent is not None:
            for link in await self.pedigree(parent):
                self._check_redelegation(link, expires_at, role_ids, _Fields(values))
            if expires_at is None:
                expires_at = parent.expires_at
        trust = models.Trust(
            id=models.new_id(),
            trustor_user_id=values["trustor_user_id"],
            trustee_user_id=values["trustee_user_id"],
            project_id=values.get("project_id"),
            impersonation=values["impersonation"],
            expires_at=expires_at,
            remaining_uses=values.get("remaining_uses"),
            redelegated_trust_id=parent.id if parent else None,
            redelegation_count=count,
            roles=role_ids,
            extra=values.get("extra", {}),
        )
        async with self.context.db.session() as s:
            s.add(trust)
        await self.context.notify("OS-TRUST:trust.created", trust.id)
        return trust

    @staticmethod
    def _redelegation_count(values: dict[str, Any], parent: models.Trust | None) -> int:
        requested = values.get("redelegation_count")
        redelegatable = bool(values.get("allow_redelegation")) and requested != 0
        if not redelegatable:
            uses = values.get("remaining_uses")
            if uses is not None and uses <= 0:
                raise errors.BadRequest("remaining_uses must be a positive integer or null.")
            return 0
        if requested is not None and requested > MAX_REDELEGATION_COUNT:
            raise _forbidden(
                f"Requested redelegation depth of {requested} is greater than allowed "
                f"{MAX_REDELEGATION_COUNT}"
            )
        if values.get("remaining_uses") is not None:
            raise errors.BadRequest("remaining_uses must not be set if redelegation is allowed")
        if parent is None:
            return int(requested) if requested is not None else MAX_REDELEGATION_COUNT
        remaining = parent.redelegation_count - 1
        if requested and requested != remaining:
            raise _forbidden(
                'Modifying "redelegation_count" upon redelegation is forbidden. '
                "Omitting this parameter is advised."
            )
        return remaining

    # --- using and ending ------------------------------------------------------------------
    async def consume(self, trust: models.Trust) -> None:
        """One use of a trust with limited uses (a token was issued through it)."""
        if trust.remaining_uses is None:
            return
        async with self.context.db.session() as s:
            done = await s.execute(
                update(models.Trust)
                .where(
                    models.Trust.id == trust.id,
                    models.Trust.deleted_at.is_(None),
                    models.Trust.remaining_uses > 0,
                )
                .values(remaining_uses=models.Trust.remaining_uses - 1)
            )
        if getattr(done, "rowcount", 1) == 0:
            raise errors.Unauthorized(f"Could not find trust: {trust.id}.")

    async def delete(self, trust_id: str) -> None:
        """Delete a trust and, recursively, the trusts redelegated from it."""
        trust = await self._row(trust_id)
        if trust is None:
            raise _not_found(trust_id)
        await self._soft_delete([trust.id])

    async def _soft_delete(self, ids: list[str]) -> None:
        seen: set[str] = set()
        while ids:
            async with self.context.db.session() as s:
                await s.execute(
                    update(models.Trust).where(models.Trust.id.in_(ids)).values(deleted_at=utcnow())
                )
                children = (
                    await s.scalars(
                        select(models.Trust.id).where(
                            models.Trust.redelegated_trust_id.in_(ids),
                            models.Trust.deleted_at.is_(None),
                        )
                    )
                ).all()
            for trust_id in ids:
                seen.add(trust_id)
                await self.revoke.record(trust_id=trust_id)
                await self.context.notify("OS-TRUST:trust.deleted", trust_id)
            ids = [c for c in children if c not in seen]

    async def on_event(self, event_type: str, payload: dict[str, Any]) -> None:
        """A deleted user's or project's trusts go with it (Keystone's callbacks)."""
        resource = str(payload.get("resource_info", ""))
        if event_type == "identity.user.deleted":
            where = or_(
                models.Trust.trustor_user_id == resource, models.Trust.trustee_user_id == resource
            )
        elif event_type == "identity.project.deleted":
            where = models.Trust.project_id == resource
        else:
            return
        async with self.context.db.session() as s:
            ids = list(
                (
                    await s.scalars(
                        select(models.Trust.id).where(where, models.Trust.deleted_at.is_(None))
                    )
                ).all()
            )
        if ids:
            await self._soft_delete(ids)

    # --- trust-scoped tokens ---------------------------------------------------------------
    async def scope_token(self, data: TokenData, trust_id: str) -> TokenData:
        """Scope the unscoped ``data`` of the trustee to the trust (Keystone's token model
        checks: the caller is the trustee, the trustor is enabled and still holds the roles)."""
        try:
            trust = await self.get(trust_id)
        except errors.NotFound:
            raise errors.Unauthorized(f"Could not find trust: {trust_id}.") from None
        if data.user_id != trust.trustee_user_id:
            raise _forbidden("User is not a trustee.")
        try:
            trustor = await self.users.get_user(trust.trustor_user_id)
            trustor_domain = await self.resources.get_domain(trustor.domain_id)
        except errors.NotFound:
            raise errors.Unauthorized(f"Could not find trust: {trust_id}.") from None
        if not trustor.enabled:
            raise _forbidden("Trustor is disabled.")
        if not trustor_domain.enabled:
            raise errors.Unauthorized("Trustor domain is disabled.")
        if trust.project_id:
            project, _ = await self.resources.get_project(trust.project_id)
            domain = await self.resources.get_domain(project.domain_id)
            if not project.enabled or not domain.enabled:
                raise errors.Unauthorized("The request you have made requires authentication.")
            data.project_id, data.project_name = project.id, project.name
            data.project_domain_id, data.project_domain_name = domain.id, domain.name
        origin = (await self.pedigree(trust))[-1]
        held = (
            await self.assignments.effective_role_ids(
                origin.trustor_user_id, "project", trust.project_id
            )
            if trust.project_id
            else set()
        )
        wanted = await self.roles.expand(trust.roles)
        if not wanted <= held:
            raise _forbidden("Trustee has no delegated roles.")
        roles = await self.roles.roles_by_id(await self.roles.global_only(wanted))
        data.roles = sorted(((r.id, r.name) for r in roles.values()), key=lambda x: x[1])
        if trust.impersonation:
            data.user_id, data.user_name = trustor.id, trustor.name
            data.user_domain_id, data.user_domain_name = trustor_domain.id, trustor_domain.name
            data.password_expires_at_us = None
        if trust.expires_at is not None:
            data.expires_at_us = min(data.expires_at_us, _us(trust.expires_at))
        data.trust = (trust.id, trustor.id, trust.trustee_user_id, trust.impersonation)
        await self.consume(trust)
        return data


def _us(value: datetime) -> int:
    return int(value.replace(tzinfo=UTC).timestamp() * 1_000_000)


class _Fields:
    """The fields of a trust being made, as the redelegation checks read them."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.remaining_uses = values.get("remaining_uses")
        self.impersonation = bool(values.get("impersonation"))
