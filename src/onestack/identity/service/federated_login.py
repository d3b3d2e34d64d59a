"""The federated login (``/v3/OS-FEDERATION/identity_providers/{idp}/protocols/{p}/auth``):
an assertion from the trusted front, checked against the provider's remote ids, mapped by the
protocol's rules, turned into an unscoped token as Keystone's ``mapped`` auth method does."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from onestack.common import errors
from onestack.identity import mapping, models
from onestack.identity.service.assignments import Assignments
from onestack.identity.service.base import IdentityContext
from onestack.identity.service.federation import Federation
from onestack.identity.service.resources import Resources
from onestack.identity.service.roles import Roles
from onestack.identity.service.users import Users
from onestack.identity.tokens import TokenData, new_audit_id, now_us


def _unauthorized(message: str) -> errors.Unauthorized:
    return errors.Unauthorized(message)


class FederatedLogin:
    def __init__(
        self,
        context: IdentityContext,
        federation: Federation,
        users: Users,
        resources: Resources,
        roles: Roles,
        assignments: Assignments,
    ) -> None:
        self.context = context
        self.federation = federation
        self.users = users
        self.resources = resources
        self.roles = roles
        self.assignments = assignments

    async def _check_remote_id(
        self,
        idp: models.IdentityProvider,
        protocol: models.FederationProtocol,
        assertion: dict[str, str],
    ) -> None:
        """Keystone's ``validate_idp``: when both an attribute naming the provider and the
        provider's remote ids are known, the assertion's provider must be one of them."""
        attribute = (
            protocol.remote_id_attribute or self.context.settings.federation_remote_id_attribute
        )
        remote_ids = (await self.federation.remote_ids([idp.id]))[idp.id]
        if not attribute or not remote_ids:
            return
        lowered = {k.lower(): v for k, v in assertion.items()}
        value = lowered.get(attribute.lower())
        if value is None:
            raise errors.BadRequest("Could not find Identity Provider identifier in environment")
        if value not in remote_ids:
            raise errors.Forbidden(
                "Incoming identity provider identifier not included among the accepted identifiers."
            )

    async def _domain_id(self, ref: dict[str, str] | None, default: str) -> str:
        if not ref:
            return default
        try:
            if "id" in ref:
                return (await self.resources.get_domain(ref["id"])).id
            return (await self.resources.find_domain(ref["name"])).id
        except errors.NotFound:
            raise _unauthorized(f"Could not find domain: {ref}.") from None

    async def _groups(self, mapped: mapping.Mapped, mapping_id: str) -> list[str]:
        ids: list[str] = []
        async with self.context.db.session() as s:
            for group_id in mapped.group_ids:
                if await s.get(models.Group, group_id) is None:
                    raise _unauthorized(
                        f"Group {group_id} returned by mapping {mapping_id} was not found."
                    )
                ids.append(group_id)
        for name, domain in mapped.group_names:
            domain_id = await self._domain_id(domain, "")
            async with self.context.db.session() as s:
                found = await s.scalar(
                    select(models.Group.id).where(
                        models.Group.name == name, models.Group.domain_id == domain_id
                    )
                )
            if found is None:
                raise _unauthorized(f"Group {name} returned by mapping {mapping_id} was not found.")
            ids.append(found)
        return list(dict.fromkeys(ids))

    async def _local_user(self, user: dict[str, Any], idp: models.IdentityProvider) -> models.User:
        """A ``type: local`` mapping names a user that must exist."""
        found: models.User | None
        if "id" in user:
            try:
                found = await self.users.get_user(user["id"])
            except errors.NotFound:
                found = None
        else:
            domain_id = await self._domain_id(user.get("domain"), idp.domain_id)
            found = await self.users.find_user(user["name"], domain_id)
        if found is None:
            raise _unauthorized("Could not find the local user the mapping names.")
        return found

    async def _shadow_user(
        self, user: dict[str, Any], idp: models.IdentityProvider, protocol_id: str
    ) -> models.User:
        """The provider's user as a local user in the provider's domain, made on first login."""
        unique_id = str(user.get("id") or user["name"])
        name = str(user.get("name") or unique_id)
        async with self.context.db.session() as s:
            link = await s.get(models.FederatedUser, (idp.id, protocol_id, unique_id))
            existing = await s.get(models.User, link.user_id) if link is not None else None
            if link is not None and existing is not None:
                link.display_name = name
                return existing
        domain_id = await self._domain_id(user.get("domain"), idp.domain_id)
        values: dict[str, Any] = {"name": name, "domain_id": domain_id}
        if user.get("email"):
            values["email"] = user["email"]
        created = await self.users.create_user(values)
        async with self.context.db.session() as s:
            link = await s.get(models.FederatedUser, (idp.id, protocol_id, unique_id))
            if link is None:
                s.add(
                    models.FederatedUser(
                        idp_id=idp.id,
                        protocol_id=protocol_id,
                        unique_id=unique_id,
                        user_id=created.id,
                        display_name=name,
                    )
                )
            else:
                link.user_id, link.display_name = created.id, name
        return created

    async def _provision_projects(
        self, user: models.User, projects: list[dict[str, Any]], domain_id: str
    ) -> None:
        """Keystone's auto-provisioning: the mapped projects (made when missing) in the
        provider's domain, with the mapped roles granted to the user."""
        for wanted in projects:
            try:
                project = await self.resources.find_project(wanted["name"], domain_id)
            except errors.NotFound:
                project, _ = await self.resources.create_project(
                    {"name": wanted["name"], "domain_id": domain_id}
                )
            for role_name in wanted["roles"]:
                role = await self.roles.find_global_role(role_name)
                if role is None:
                    raise _unauthorized(f"Could not find role: {role_name}.")
                held = await self.assignments.effective_role_ids(user.id, "project", project.id)
                if role.id not in held:
                    await self.assignments.grant("user", user.id, "project", project.id, role.id)

    async def login(
        self, idp_id: str, protocol_id: str, assertion: dict[str, str], expiration: int
    ) -> TokenData:
        try:
            idp = await self.federation.get_idp(idp_id)
            protocol = await self.federation.get_protocol(idp_id, protocol_id)
            row = await self.federation.get_mapping(protocol.mapping_id)
        except errors.NotFound:
            raise _unauthorized("Could not find the identity provider or its protocol.") from None
        if not idp.enabled:
            raise errors.Forbidden(f"Identity Provider {idp_id} is disabled")
        if not assertion:
            raise _unauthorized("No assertion: no trusted front identified the user.")
        await self._check_remote_id(idp, protocol, assertion)
        rules = mapping.Rules.model_validate({"rules": row.rules})
        mapped = mapping.apply_rules(rules, assertion)
        group_ids = await self._groups(mapped, row.id)
        if mapped.user.get("type") == "local":
            user = await self._local_user(mapped.user, idp)
        else:
            user = await self._shadow_user(mapped.user, idp, protocol_id)
            if mapped.projects:
                await self._provision_projects(user, mapped.projects, idp.domain_id)
        domain = await self.resources.get_domain(user.domain_id)
        if not user.enabled or not domain.enabled:
            raise _unauthorized("The request you have made requires authentication.")
        now = now_us()
        return TokenData(
            user_id=user.id,
            user_name=user.name,
            user_domain_id=domain.id,
            user_domain_name=domain.name,
            methods=[protocol_id],
            issued_at_us=now,
            expires_at_us=now + expiration * 1_000_000,
            audit_ids=[new_audit_id()],
            federation=(idp.id, protocol_id, group_ids),
        )
