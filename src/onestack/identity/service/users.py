"""Users, groups and group membership, and passwords."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.db import delete_one, utcnow
from onestack.identity import models
from onestack.identity.passwords import PasswordChecker, hash_password
from onestack.identity.service.base import IdentityContext, apply_changes, must_get

USER_COLUMNS = {"name", "enabled", "default_project_id", "options"}
GROUP_COLUMNS = {"name", "description"}


class Users:
    def __init__(self, context: IdentityContext, revoke: Any, checker: PasswordChecker) -> None:
        self.context = context
        self.revoke = revoke
        self.checker = checker

    async def _hash(self, password: str) -> str:
        return await hash_password(password, self.context.settings.password_hash_rounds)

    async def _name_taken(self, s: AsyncSession, model: Any, domain_id: str, name: str) -> bool:
        found = await s.scalar(
            select(model.id).where(model.domain_id == domain_id, model.name == name)
        )
        return found is not None

    # --- users -----------------------------------------------------------------------------
    async def create_user(self, values: dict[str, Any]) -> models.User:
        password = values.pop("password", None)
        hashed = await self._hash(password) if password is not None else None
        async with self.context.db.session() as s:
            domain_id = values.pop("domain_id")
            await must_get(s, models.Domain, domain_id, "domain")
            if await self._name_taken(s, models.User, domain_id, values["name"]):
                raise errors.Conflict(kind="user", reason=f"Duplicate entry {values['name']}")
            user = models.User(id=models.new_id(), domain_id=domain_id, extra={}, options={})
            apply_changes(user, values, USER_COLUMNS)
            if hashed is not None:
                user.password_hash = hashed
                user.password_created_at = utcnow()
            s.add(user)
        await self.context.notify("user.created", user.id)
        return user

    async def get_user(self, user_id: str) -> models.User:
        async with self.context.db.session() as s:
            return await must_get(s, models.User, user_id, "user")

    async def find_user(self, name: str, domain_id: str) -> models.User | None:
        async with self.context.db.session() as s:
            return await s.scalar(
                select(models.User).where(
                    models.User.name == name, models.User.domain_id == domain_id
                )
            )

    async def list_users(
        self, filters: dict[str, Any], ids: Collection[str] | None = None
    ) -> Sequence[models.User]:
        stmt = select(models.User).order_by(models.User.name)
        if ids is not None:
            stmt = stmt.where(models.User.id.in_(ids))
        for key in ("name", "domain_id", "enabled"):
            if key in filters:
                stmt = stmt.where(getattr(models.User, key) == filters[key])
        async with self.context.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def update_user(self, user_id: str, changes: dict[str, Any]) -> models.User:
        password = changes.pop("password", None)
        hashed = await self._hash(password) if password is not None else None
        async with self.context.db.session() as s:
            user = await must_get(s, models.User, user_id, "user")
            if "domain_id" in changes and changes.pop("domain_id") != user.domain_id:
                raise errors.BadRequest("Update of `domain_id` is not allowed.")
            if (
                "name" in changes
                and changes["name"] != user.name
                and await self._name_taken(s, models.User, user.domain_id, changes["name"])
            ):
                raise errors.Conflict(kind="user", reason=f"Duplicate entry {changes['name']}")
            if "options" in changes:
                changes["options"] = {
                    k: v for k, v in {**user.options, **changes["options"]}.items() if v is not None
                }
            disabling = changes.get("enabled") is False and user.enabled
            apply_changes(user, changes, USER_COLUMNS)
            if hashed is not None:
                user.password_hash = hashed
                user.password_created_at = utcnow()
        if disabling or hashed is not None:
            await self.revoke.record(user_id=user_id)
        await self.context.notify("user.updated", user_id)
        return user

    async def delete_user(self, user_id: str) -> None:
        async with self.context.db.session() as s:
            await must_get(s, models.User, user_id, "user")
            await s.execute(
                delete(models.Assignment).where(
                    models.Assignment.actor_id == user_id,
                    models.Assignment.type.in_(("UserProject", "UserDomain", "UserSystem")),
                )
            )
            await s.execute(delete(models.Membership).where(models.Membership.user_id == user_id))
            await s.execute(
                delete(models.ApplicationCredential).where(
                    models.ApplicationCredential.user_id == user_id
                )
            )
            await s.execute(delete(models.Credential).where(models.Credential.user_id == user_id))
            await delete_one(
                s,
                delete(models.User).where(models.User.id == user_id),
                errors.NotFound(kind="user", id=user_id),
            )
        await self.revoke.record(user_id=user_id)
        await self.context.notify("user.deleted", user_id)

    async def check_password(self, user: models.User | None, password: str) -> bool:
        """Constant-cost check: an unknown user still pays for one hash."""
        return await self.checker.verify(password, user.password_hash if user else None)

    async def change_password(self, user_id: str, original: str, new: str) -> None:
        async with self.context.db.session() as s:
            user = await s.get(models.User, user_id)
        if not await self.check_password(user, original) or user is None:
            raise errors.Unauthorized("The request you have made requires authentication.")
        if user.options.get("lock_password"):
            raise errors.BadRequest("You are not allowed to change your password.")
        if original == new:
            raise errors.BadRequest("The new password must differ from the current one.")
        await self.update_user(user_id, {"password": new})

    # --- groups ----------------------------------------------------------------------------
    async def create_group(self, values: dict[str, Any]) -> models.Group:
        async with self.context.db.session() as s:
            domain_id = values.pop("domain_id")
            await must_get(s, models.Domain, domain_id, "domain")
            if await self._name_taken(s, models.Group, domain_id, values["name"]):
                raise errors.Conflict(kind="group", reason=f"Duplicate entry {values['name']}")
            group = models.Group(id=models.new_id(), domain_id=domain_id, extra={})
            apply_changes(group, values, GROUP_COLUMNS)
            s.add(group)
        await self.context.notify("group.created", group.id)
        return group

    async def get_group(self, group_id: str) -> models.Group:
        async with self.context.db.session() as s:
            return await must_get(s, models.Group, group_id, "group")

    async def list_groups(
        self,
        filters: dict[str, Any],
        user_id: str | None = None,
        ids: Collection[str] | None = None,
    ) -> Sequence[models.Group]:
        stmt = select(models.Group).order_by(models.Group.name)
        if ids is not None:
            stmt = stmt.where(models.Group.id.in_(ids))
        for key in ("name", "domain_id"):
            if key in filters:
                stmt = stmt.where(getattr(models.Group, key) == filters[key])
        if user_id is not None:
            stmt = stmt.join(
                models.Membership, models.Membership.group_id == models.Group.id
            ).where(models.Membership.user_id == user_id)
        async with self.context.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def update_group(self, group_id: str, changes: dict[str, Any]) -> models.Group:
        async with self.context.db.session() as s:
            group = await must_get(s, models.Group, group_id, "group")
            if "domain_id" in changes and changes.pop("domain_id") != group.domain_id:
                raise errors.BadRequest("Update of `domain_id` is not allowed.")
            if (
                "name" in changes
                and changes["name"] != group.name
                and await self._name_taken(s, models.Group, group.domain_id, changes["name"])
            ):
                raise errors.Conflict(kind="group", reason=f"Duplicate entry {changes['name']}")
            apply_changes(group, changes, GROUP_COLUMNS)
        await self.context.notify("group.updated", group_id)
        return group

    async def delete_group(self, group_id: str) -> None:
        async with self.context.db.session() as s:
            await must_get(s, models.Group, group_id, "group")
            members = (
                await s.scalars(
                    select(models.Membership.user_id).where(models.Membership.group_id == group_id)
                )
            ).all()
            await s.execute(
                delete(models.Assignment).where(
                    models.Assignment.actor_id == group_id,
                    models.Assignment.type.in_(("GroupProject", "GroupDomain", "GroupSystem")),
                )
            )
            await s.execute(delete(models.Membership).where(models.Membership.group_id == group_id))
            await delete_one(
                s,
                delete(models.Group).where(models.Group.id == group_id),
                errors.NotFound(kind="group", id=group_id),
            )
        for user_id in members:
            await self.revoke.record(user_id=user_id)
        await self.revoke.record(group_id=group_id)  # federated tokens carrying it
        await self.context.notify("group.deleted", group_id)

    async def list_members(self, group_id: str) -> Sequence[models.User]:
        async with self.context.db.session() as s:
            await must_get(s, models.Group, group_id, "group")
            stmt = (
                select(models.User)
                .join(models.Membership, models.Membership.user_id == models.User.id)
                .where(models.Membership.group_id == group_id)
                .order_by(models.User.name)
            )
            return (await s.scalars(stmt)).all()

    async def is_member(self, group_id: str, user_id: str) -> bool:
        async with self.context.db.session() as s:
            await must_get(s, models.Group, group_id, "group")
            await must_get(s, models.User, user_id, "user")
            return await s.get(models.Membership, (user_id, group_id)) is not None

    async def add_member(self, group_id: str, user_id: str) -> None:
        async with self.context.db.session() as s:
            await must_get(s, models.Group, group_id, "group")
            await must_get(s, models.User, user_id, "user")
            if await s.get(models.Membership, (user_id, group_id)) is None:
                s.add(models.Membership(user_id=user_id, group_id=group_id))

    async def remove_member(self, group_id: str, user_id: str) -> None:
        async with self.context.db.session() as s:
            row = await s.get(models.Membership, (user_id, group_id))
            if row is None:
                raise errors.NotFound(f"User '{user_id}' not found in group '{group_id}'.")
            await s.delete(row)
        await self.revoke.record(user_id=user_id)
