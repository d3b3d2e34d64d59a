"""OS-FEDERATION, as Keystone's: identity providers (with their remote ids and domain),
mappings, protocols and service providers; and the federated login, where a trusted front's
assertion goes through the protocol's mapping to a shadow user (or an existing local one),
groups and auto-provisioned projects, and comes out as an unscoped token carrying the groups.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select

from onestack.common import errors
from onestack.identity import mapping, models
from onestack.identity.service.assignments import Assignments
from onestack.identity.service.base import IdentityContext, must_get
from onestack.identity.service.resources import Resources
from onestack.identity.service.revocations import Revocations
from onestack.identity.service.roles import Roles
from onestack.identity.service.users import Users

RELAY_STATE_PREFIX = "ss:mem:"  # Keystone's [saml] relay_state_prefix default


def _conflict(kind: str, ident: str) -> errors.Conflict:
    return errors.Conflict(kind=kind, reason=f"Duplicate entry {ident}")


def _unauthorized(message: str) -> errors.Unauthorized:
    return errors.Unauthorized(message)


class Federation:
    def __init__(
        self,
        context: IdentityContext,
        revocations: Revocations,
        users: Users,
        resources: Resources,
        roles: Roles,
        assignments: Assignments,
    ) -> None:
        self.context = context
        self.revocations = revocations
        self.users = users
        self.resources = resources
        self.roles = roles
        self.assignments = assignments

    # --- identity providers ----------------------------------------------------------------
    async def remote_ids(self, idp_ids: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {i: [] for i in idp_ids}
        async with self.context.db.session() as s:
            rows = await s.scalars(
                select(models.IdpRemoteId)
                .where(models.IdpRemoteId.idp_id.in_(list(idp_ids)))
                .order_by(models.IdpRemoteId.remote_id)
            )
            for row in rows:
                out[row.idp_id].append(row.remote_id)
        return out

    async def _set_remote_ids(self, s: Any, idp_id: str, remote_ids: Sequence[str]) -> None:
        taken = (
            await s.scalars(
                select(models.IdpRemoteId).where(
                    models.IdpRemoteId.remote_id.in_(list(remote_ids)),
                    models.IdpRemoteId.idp_id != idp_id,
                )
            )
        ).first()
        if taken is not None:
            raise _conflict("identity_provider", f"remote_id {taken.remote_id}")
        await s.execute(delete(models.IdpRemoteId).where(models.IdpRemoteId.idp_id == idp_id))
        for remote_id in dict.fromkeys(remote_ids):
            s.add(models.IdpRemoteId(remote_id=remote_id, idp_id=idp_id))

    async def create_idp(self, idp_id: str, values: dict[str, Any]) -> models.IdentityProvider:
        domain_id = values.get("domain_id")
        if domain_id:
            await self.resources.get_domain(domain_id)
        async with self.context.db.session() as s:
            if await s.get(models.IdentityProvider, idp_id) is not None:
                raise _conflict("identity_provider", idp_id)
        if not domain_id:  # Keystone makes one for the provider's users
            domain_id = models.new_id()
            await self.resources.create_domain(
                {"name": domain_id, "description": "Auto generated federated domain"}, domain_id
            )
        idp = models.IdentityProvider(
            id=idp_id,
            enabled=bool(values.get("enabled", False)),
            description=values.get("description"),
            domain_id=domain_id,
            authorization_ttl=values.get("authorization_ttl"),
        )
        async with self.context.db.session() as s:
            s.add(idp)
            await self._set_remote_ids(s, idp_id, values.get("remote_ids") or [])
        await self.context.notify("OS-FEDERATION:identity_provider.created", idp_id)
        return idp

    async def get_idp(self, idp_id: str) -> models.IdentityProvider:
        async with self.context.db.session() as s:
            return await must_get(s, models.IdentityProvider, idp_id, "identity_provider")

    async def list_idps(self, filters: dict[str, Any]) -> Sequence[models.IdentityProvider]:
        stmt = select(models.IdentityProvider).order_by(models.IdentityProvider.id)
        for key in ("id", "enabled"):
            if key in filters:
                stmt = stmt.where(getattr(models.IdentityProvider, key) == filters[key])
        async with self.context.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def update_idp(self, idp_id: str, changes: dict[str, Any]) -> models.IdentityProvider:
        async with self.context.db.session() as s:
            idp = await must_get(s, models.IdentityProvider, idp_id, "identity_provider")
            disabling = changes.get("enabled") is False and idp.enabled
            for key in ("enabled", "description", "authorization_ttl"):
                if key in changes:
                    setattr(idp, key, changes[key])
            if "remote_ids" in changes:
                await self._set_remote_ids(s, idp_id, changes["remote_ids"] or [])
        if disabling:
            await self._revoke_users_of(idp_id)
        await self.context.notify("OS-FEDERATION:identity_provider.updated", idp_id)
        return idp

    async def _federated_user_ids(self, idp_id: str) -> list[str]:
        async with self.context.db.session() as s:
            rows = await s.scalars(
                select(models.FederatedUser.user_id).where(models.FederatedUser.idp_id == idp_id)
            )
            return sorted(set(rows.all()))

    async def _revoke_users_of(self, idp_id: str) -> None:
        for user_id in await self._federated_user_ids(idp_id):
            await self.revocations.record(user_id=user_id)

    async def delete_idp(self, idp_id: str) -> None:
        """The provider, its protocols and remote ids, and its shadow users (as Keystone)."""
        await self.get_idp(idp_id)
        user_ids = await self._federated_user_ids(idp_id)
        async with self.context.db.session() as s:
            for model, column in (
                (models.FederationProtocol, models.FederationProtocol.idp_id),
                (models.IdpRemoteId, models.IdpRemoteId.idp_id),
                (models.FederatedUser, models.FederatedUser.idp_id),
                (models.IdentityProvider, models.IdentityProvider.id),
            ):
                await s.execute(delete(model).where(column == idp_id))
        for user_id in user_ids:
            with contextlib.suppress(errors.NotFound):
                await self.users.delete_user(user_id)
        await self.context.notify("OS-FEDERATION:identity_provider.deleted", idp_id)

    # --- mappings --------------------------------------------------------------------------
    async def create_mapping(self, mapping_id: str, rules: mapping.Rules) -> models.Mapping:
        row = models.Mapping(
            id=mapping_id,
            rules=rules.model_dump(exclude_unset=True)["rules"],
            schema_version=rules.schema_version or "1.0",
        )
        async with self.context.db.session() as s:
            if await s.get(models.Mapping, mapping_id) is not None:
                raise _conflict("mapping", mapping_id)
            s.add(row)
        await self.context.notify("OS-FEDERATION:mapping.created", mapping_id)
        return row

    async def get_mapping(self, mapping_id: str) -> models.Mapping:
        async with self.context.db.session() as s:
            return await must_get(s, models.Mapping, mapping_id, "mapping")

    async def list_mappings(self) -> Sequence[models.Mapping]:
        async with self.context.db.session() as s:
            return (await s.scalars(select(models.Mapping).order_by(models.Mapping.id))).all()

    async def update_mapping(self, mapping_id: str, rules: mapping.Rules) -> models.Mapping:
        async with self.context.db.session() as s:
            row = await must_get(s, models.Mapping, mapping_id, "mapping")
            row.rules = rules.model_dump(exclude_unset=True)["rules"]
            if rules.schema_version:
                row.schema_version = rules.schema_version
        await self.context.notify("OS-FEDERATION:mapping.updated", mapping_id)
        return row

    async def delete_mapping(self, mapping_id: str) -> None:
        await self.get_mapping(mapping_id)
        async with self.context.db.session() as s:
            await s.execute(delete(models.Mapping).where(models.Mapping.id == mapping_id))
        await self.context.notify("OS-FEDERATION:mapping.deleted", mapping_id)

    # --- protocols -------------------------------------------------------------------------
    async def create_protocol(
        self, idp_id: str, protocol_id: str, values: dict[str, Any]
    ) -> models.FederationProtocol:
        await self.get_idp(idp_id)
        await self.get_mapping(values["mapping_id"])
        row = models.FederationProtocol(
            id=protocol_id,
            idp_id=idp_id,
            mapping_id=values["mapping_id"],
            remote_id_attribute=values.get("remote_id_attribute"),
        )
        async with self.context.db.session() as s:
            if await s.get(models.FederationProtocol, (protocol_id, idp_id)) is not None:
                raise _conflict("protocol", protocol_id)
            s.add(row)
        await self.context.notify("OS-FEDERATION:protocol.created", protocol_id)
        return row

    async def get_protocol(self, idp_id: str, protocol_id: str) -> models.FederationProtocol:
        async with self.context.db.session() as s:
            row = await s.get(models.FederationProtocol, (protocol_id, idp_id))
        if row is None:
            raise errors.NotFound(f"Could not find federated protocol: {protocol_id}.")
        return row

    async def list_protocols(self, idp_id: str) -> Sequence[models.FederationProtocol]:
        await self.get_idp(idp_id)
        async with self.context.db.session() as s:
            return (
                await s.scalars(
                    select(models.FederationProtocol)
                    .where(models.FederationProtocol.idp_id == idp_id)
                    .order_by(models.FederationProtocol.id)
                )
            ).all()

    async def update_protocol(
        self, idp_id: str, protocol_id: str, changes: dict[str, Any]
    ) -> models.FederationProtocol:
        if "mapping_id" in changes:
            await self.get_mapping(changes["mapping_id"])
        async with self.context.db.session() as s:
            row = await s.get(models.FederationProtocol, (protocol_id, idp_id))
            if row is None:
                raise errors.NotFound(f"Could not find federated protocol: {protocol_id}.")
            for key in ("mapping_id", "remote_id_attribute"):
                if key in changes:
                    setattr(row, key, changes[key])
        await self.context.notify("OS-FEDERATION:protocol.updated", protocol_id)
        return row

    async def delete_protocol(self, idp_id: str, protocol_id: str) -> None:
        await self.get_protocol(idp_id, protocol_id)
        async with self.context.db.session() as s:
            await s.execute(
                delete(models.FederationProtocol).where(
                    models.FederationProtocol.id == protocol_id,
                    models.FederationProtocol.idp_id == idp_id,
                )
            )
        await self.context.notify("OS-FEDERATION:protocol.deleted", protocol_id)

    # --- service providers -----------------------------------------------------------------
    async def create_sp(self, sp_id: str, values: dict[str, Any]) -> models.ServiceProvider:
        row = models.ServiceProvider(
            id=sp_id,
            enabled=bool(values.get("enabled", False)),
            description=values.get("description"),
            auth_url=values["auth_url"],
            sp_url=values["sp_url"],
            relay_state_prefix=values.get("relay_state_prefix") or RELAY_STATE_PREFIX,
        )
        async with self.context.db.session() as s:
            if await s.get(models.ServiceProvider, sp_id) is not None:
                raise _conflict("service_provider", sp_id)
            s.add(row)
        await self.context.notify("OS-FEDERATION:service_provider.created", sp_id)
        return row

    async def get_sp(self, sp_id: str) -> models.ServiceProvider:
        async with self.context.db.session() as s:
            return await must_get(s, models.ServiceProvider, sp_id, "service_provider")

    async def list_sps(self, filters: dict[str, Any]) -> Sequence[models.ServiceProvider]:
        stmt = select(models.ServiceProvider).order_by(models.ServiceProvider.id)
        for key in ("id", "enabled"):
            if key in filters:
                stmt = stmt.where(getattr(models.ServiceProvider, key) == filters[key])
        async with self.context.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def update_sp(self, sp_id: str, changes: dict[str, Any]) -> models.ServiceProvider:
        async with self.context.db.session() as s:
            row = await must_get(s, models.ServiceProvider, sp_id, "service_provider")
            for key in ("enabled", "description", "auth_url", "sp_url"):
                if key in changes:
                    setattr(row, key, changes[key])
            if "relay_state_prefix" in changes:
                row.relay_state_prefix = changes["relay_state_prefix"] or RELAY_STATE_PREFIX
        await self.context.notify("OS-FEDERATION:service_provider.updated", sp_id)
        return row

    async def delete_sp(self, sp_id: str) -> None:
        await self.get_sp(sp_id)
        async with self.context.db.session() as s:
            await s.execute(
                delete(models.ServiceProvider).where(models.ServiceProvider.id == sp_id)
            )
        await self.context.notify("OS-FEDERATION:service_provider.deleted", sp_id)

    async def on_event(self, event_type: str, payload: dict[str, Any]) -> None:
        """A deleted shadow user loses its link: the next login makes a new one."""
        if event_type != "identity.user.deleted":
            return
        async with self.context.db.session() as s:
            await s.execute(
                delete(models.FederatedUser).where(
                    models.FederatedUser.user_id == str(payload.get("resource_info", ""))
                )
            )
