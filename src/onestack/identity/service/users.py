"""Users, groups and group membership, and passwords."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.db import utcnow
from onestack.identity import models as m
from onestack.identity.passwords import PasswordChecker, hash_password
from onestack.identity.service.base import Store, apply_changes, must_get

USER_COLUMNS = {"name", "enabled", "default_project_id", "options"}
GROUP_COLUMNS = {"name", "description"}


class Users:
    def __init__(self, store: Store, revoke: Any, checker: PasswordChecker) -> None:
        self.store = store
        self.revoke = revoke
        self.checker = checker

    async def _hash(self, password: str) -> str:
        return await hash_password(password, self.store.settings.password_hash_rounds)

    async def _name_taken(self, s: AsyncSession, model: Any, domain_id: str, name: str) -> bool:
        found = await s.scalar(
            select(model.id).where(model.domain_id == domain_id, model.name == name)
        )
        return found is not None

    # --- users -----------------------------------------------------------------------------
    async def create_user(self, values: dict[str, Any]) -> m.User:
        password = values.pop("password", None)
        hashed = await self._hash(password) if password is not None else None
        async with self.store.db.session() as s:
            domain_id = values.pop("domain_id")
            await must_get(s, m.Domain, domain_id, "domain")
            if await self._name_taken(s, m.User, domain_id, values["name"]):
                raise errors.Conflict(kind="user", reason=f"Duplicate entry {values['name']}")
            user = m.User(id=m.new_id(), domain_id=domain_id, extra={}, options={})
            apply_changes(user, values, USER_COLUMNS)
            if hashed is not None:
                user.password_hash = hashed
                user.password_created_at = utcnow()
            s.add(user)
        await self.store.notify("user.created", user.id)
        return user

    async def get_user(self, user_id: str) -> m.User:
        async with self.store.db.session() as s:
            return await must_get(s, m.User, user_id, "user")

    async def find_user(self, name: str, domain_id: str) -> m.User | None:
        async with self.store.db.session() as s:
            return await s.scalar(
                select(m.User).where(m.User.name == name, m.User.domain_id == domain_id)
            )

    async def list_users(
        self, filters: dict[str, Any], ids: Collection[str] | None = None
    ) -> Sequence[m.User]:
        stmt = select(m.User).order_by(m.User.name)
        if ids is not None:
            stmt = stmt.where(m.User.id.in_(ids))
        for key in ("name", "domain_id", "enabled"):
            if key in filters:
                stmt = stmt.where(getattr(m.User, key) == filters[key])
        async with self.store.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def update_user(self, user_id: str, changes: dict[str, Any]) -> m.User:
        password = changes.pop("password", None)
        hashed = await self._hash(password) if password is not None else None
        async with self.store.db.session() as s:
            user = await must_get(s, m.User, user_id, "user")
            if "domain_id" in changes and changes.pop("domain_id") != user.domain_id:
                raise errors.BadRequest("Update of `domain_id` is not allowed.")
            if (
                "name" in changes
                and changes["name"] != user.name
                and await self._name_taken(s, m.User, user.domain_id, changes["name"])
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
        await self.store.notify("user.updated", user_id)
        return user

    async def delete_user(self, user_id: str) -> None:
        async with self.store.db.session() as s:
            await must_get(s, m.User, user_id, "user")
            await s.execute(
                delete(m.Assignment).where(
                    m.Assignment.actor_id == user_id,
                    m.Assignment.type.in_(("UserProject", "UserDomain", "UserSystem")),
                )
            )
            await s.execute(delete(m.Membership).where(m.Membership.user_id == user_id))
            await s.execute(
                delete(m.ApplicationCredential).where(m.ApplicationCredential.user_id == user_id)
            )
            await s.execute(delete(m.Credential).where(m.Credential.user_id == user_id))
            await s.execute(delete(m.User).where(m.User.id == user_id))
        await self.revoke.record(user_id=user_id)
        await self.store.notify("user.deleted", user_id)

    async def check_password(self, user: m.User | None, password: str) -> bool:
        """Constant-cost check: an unknown user still pays for one hash."""
        return await self.checker.verify(password, user.password_hash if user else None)

    async def change_password(self, user_id: str, original: str, new: str) -> None:
        async with self.store.db.session() as s:
            user = await s.get(m.User, user_id)
        if not await self.check_password(user, original) or user is None:
            raise errors.Unauthorized("The request you have made requires authentication.")
        if user.options.get("lock_password"):
            raise errors.BadRequest("You are not allowed to change your password.")
        if original == new:
            raise errors.BadRequest("The new password must differ from the current one.")
        await self.update_user(user_id, {"password": new})

    # --- groups ----------------------------------------------------------------------------
    async def create_group(self, values: dict[str, Any]) -> m.Group:
        async with self.store.db.session() as s:
            domain_id = values.pop("domain_id")
            await must_get(s, m.Domain, domain_id, "domain")
            if await self._name_taken(s, m.Group, domain_id, values["name"]):
                raise errors.Conflict(kind="group", reason=f"Duplicate entry {values['name']}")
            group = m.Group(id=m.new_id(), domain_id=domain_id, extra={})
            apply_changes(group, values, GROUP_COLUMNS)
            s.add(group)
        await self.store.notify("group.created", group.id)
        return group

    async def get_group(self, group_id: str) -> m.Group:
        async with self.store.db.session() as s:
            return await must_get(s, m.Group, group_id, "group")

    async def list_groups(
        self,
        filters: dict[str, Any],
        user_id: str | None = None,
        ids: Collection[str] | None = None,
    ) -> Sequence[m.Group]:
        stmt = select(m.Group).order_by(m.Group.name)
        if ids is not None:
            stmt = stmt.where(m.Group.id.in_(ids))
        for key in ("name", "domain_id"):
            if key in filters:
                stmt = stmt.where(getattr(m.Group, key) == filters[key])
        if user_id is not None:
            stmt = stmt.join(m.Membership, m.Membership.group_id == m.Group.id).where(
                m.Membership.user_id == user_id
            )
        async with self.store.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def update_group(self, group_id: str, changes: dict[str, Any]) -> m.Group:
        async with self.store.db.session() as s:
            group = await must_get(s, m.Group, group_id, "group")
            if "domain_id" in changes and changes.pop("domain_id") != group.domain_id:
                raise errors.BadRequest("Update of `domain_id` is not allowed.")
            if (
                "name" in changes
                and changes["name"] != group.name
                and await self._name_taken(s, m.Group, group.domain_id, changes["name"])
            ):
                raise errors.Conflict(kind="group", reason=f"Duplicate entry {changes['name']}")
            apply_changes(group, changes, GROUP_COLUMNS)
        await self.store.notify("group.updated", group_id)
        return group

    async def delete_group(self, group_id: str) -> None:
        async with self.store.db.session() as s:
            await must_get(s, m.Group, group_id, "group")
            members = (
                await s.scalars(
                    select(m.Membership.user_id).where(m.Membership.group_id == group_id)
                )
            ).all()
            await s.execute(
                delete(m.Assignment).where(
                    m.Assignment.actor_id == group_id,
                    m.Assignment.type.in_(("GroupProject", "GroupDomain", "GroupSystem")),
                )
            )
            await s.execute(delete(m.Membership).where(m.Membership.group_id == group_id))
            await s.execute(delete(m.Group).where(m.Group.id == group_id))
        for user_id in members:
            await self.revoke.record(user_id=user_id)
        await self.store.notify("group.deleted", group_id)

    async def list_members(self, group_id: str) -> Sequence[m.User]:
        async with self.store.db.session() as s:
            await must_get(s, m.Group, group_id, "group")
            stmt = (
                select(m.User)
                .join(m.Membership, m.Membership.user_id == m.User.id)
                .where(m.Membership.group_id == group_id)
                .order_by(m.User.name)
            )
            return (await s.scalars(stmt)).all()

    async def is_member(self, group_id: str, user_id: str) -> bool:
        async with self.store.db.session() as s:
            await must_get(s, m.Group, group_id, "group")
            await must_get(s, m.User, user_id, "user")
            return await s.get(m.Membership, (user_id, group_id)) is not None

    async def add_member(self, group_id: str, user_id: str) -> None:
        async with self.store.db.session() as s:
            await must_get(s, m.Group, group_id, "group")
            await must_get(s, m.User, user_id, "user")
            if await s.get(m.Membership, (user_id, group_id)) is None:
                s.add(m.Membership(user_id=user_id, group_id=group_id))

    async def remove_member(self, group_id: str, user_id: str) -> None:
        async with self.store.db.session() as s:
            row = await s.get(m.Membership, (user_id, group_id))
            if row is None:
                raise errors.NotFound(f"User '{user_id}' not found in group '{group_id}'.")
            await s.delete(row)
        await self.revoke.record(user_id=user_id)
