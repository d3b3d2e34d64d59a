"""Application credentials and EC2-style credentials (blobs encrypted at rest)."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.db import utcnow
from onestack.identity import models
from onestack.identity.keys import KeyRepository
from onestack.identity.passwords import PasswordChecker, hash_password
from onestack.identity.service.base import IdentityContext, apply_changes, must_get

CREDENTIAL_COLUMNS = {"user_id", "project_id", "type"}


def new_secret() -> str:
    return base64.urlsafe_b64encode(os.urandom(64)).decode().rstrip("=")


class Credentials:
    def __init__(
        self, context: IdentityContext, revoke: Any, checker: PasswordChecker, keys: KeyRepository
    ) -> None:
        self.context = context
        self.revoke = revoke
        self.checker = checker
        self.keys = keys

    # --- application credentials -----------------------------------------------------------
    async def create_app_cred(
        self,
        user_id: str,
        project_id: str,
        values: dict[str, Any],
        role_ids: Sequence[str],
    ) -> tuple[models.ApplicationCredential, str]:
        secret = values.pop("secret", None) or new_secret()
        expires_at: datetime | None = values.get("expires_at")
        if expires_at is not None and expires_at <= utcnow():
            raise errors.BadRequest("The application credential's expiry is in the past.")
        hashed = await hash_password(secret, self.context.settings.password_hash_rounds)
        async with self.context.db.session() as s:
            taken = await s.scalar(
                select(models.ApplicationCredential.id).where(
                    models.ApplicationCredential.user_id == user_id,
                    models.ApplicationCredential.name == values["name"],
                )
            )
            if taken:
                raise errors.Conflict(
                    kind="application_credential", reason=f"Duplicate entry {values['name']}"
                )
            cred = models.ApplicationCredential(
                id=models.new_id(),
                name=values["name"],
                user_id=user_id,
                project_id=project_id,
                secret_hash=hashed,
                description=values.get("description"),
                expires_at=expires_at,
                unrestricted=bool(values.get("unrestricted", False)),
                roles=list(role_ids),
                access_rules=await self._register_rules(s, user_id, values.get("access_rules")),
            )
            s.add(cred)
        await self.context.notify("application_credential.created", cred.id)
        return cred, secret

    async def _register_rules(
        self, s: AsyncSession, user_id: str, rules: list[dict[str, Any]] | None
    ) -> list[dict[str, Any]]:
        """Find or add each rule in the user's registry; the credential keeps a copy."""
        out: list[dict[str, Any]] = []
        for rule in rules or []:
            fields = ("service", "path", "method")
            if rule.get("id") and not any(rule.get(f) for f in fields):
                row = await s.get(models.AccessRule, rule["id"])
                if row is None or row.user_id != user_id:
                    raise errors.NotFound(kind="access rule", id=rule["id"])
            else:
                if not all(rule.get(f) for f in fields):
                    raise errors.ValidationError(
                        field="access_rules", reason="service, path and method are required"
                    )
                row = await s.scalar(
                    select(models.AccessRule).where(
                        models.AccessRule.user_id == user_id,
                        models.AccessRule.service == rule["service"],
                        models.AccessRule.path == rule["path"],
                        models.AccessRule.method == rule["method"],
                    )
                )
                if row is None:
                    row = models.AccessRule(
                        id=rule.get("id") or models.new_id(),
                        user_id=user_id,
                        service=rule["service"],
                        path=rule["path"],
                        method=rule["method"],
                    )
                    s.add(row)
            out.append(
                {"id": row.id, "service": row.service, "path": row.path, "method": row.method}
            )
        return out

    async def list_access_rules(self, user_id: str) -> Sequence[models.AccessRule]:
        async with self.context.db.session() as s:
            stmt = select(models.AccessRule).where(models.AccessRule.user_id == user_id)
            return (
                await s.scalars(stmt.order_by(models.AccessRule.service, models.AccessRule.path))
            ).all()

    async def get_access_rule(self, user_id: str, rule_id: str) -> models.AccessRule:
        async with self.context.db.session() as s:
            row = await s.get(models.AccessRule, rule_id)
        if row is None or row.user_id != user_id:
            raise errors.NotFound(kind="access rule", id=rule_id)
        return row

    async def delete_access_rule(self, user_id: str, rule_id: str) -> None:
        rule = await self.get_access_rule(user_id, rule_id)
        for cred in await self.list_app_creds(user_id):
            if any(r.get("id") == rule.id for r in cred.access_rules):
                raise errors.Forbidden(
                    f"Cannot delete access rule {rule.id}: application credential "
                    f"{cred.id} still uses it."
                )
        async with self.context.db.session() as s:
            await s.execute(delete(models.AccessRule).where(models.AccessRule.id == rule.id))

    async def get_app_cred(self, cred_id: str) -> models.ApplicationCredential:
        async with self.context.db.session() as s:
            return await must_get(
                s, models.ApplicationCredential, cred_id, "application credential"
            )

    async def find_app_cred(self, user_id: str, name: str) -> models.ApplicationCredential | None:
        async with self.context.db.session() as s:
            return await s.scalar(
                select(models.ApplicationCredential).where(
                    models.ApplicationCredential.user_id == user_id,
                    models.ApplicationCredential.name == name,
                )
            )

    async def list_app_creds(
        self, user_id: str, name: str | None = None
    ) -> Sequence[models.ApplicationCredential]:
        stmt = select(models.ApplicationCredential).where(
            models.ApplicationCredential.user_id == user_id
        )
        if name is not None:
            stmt = stmt.where(models.ApplicationCredential.name == name)
        async with self.context.db.session() as s:
            return (await s.scalars(stmt.order_by(models.ApplicationCredential.name))).all()

    async def delete_app_cred(self, cred_id: str) -> None:
        async with self.context.db.session() as s:
            await s.delete(
                await must_get(s, models.ApplicationCredential, cred_id, "application credential")
            )
        await self.revoke.record(app_cred_id=cred_id)
        await self.context.notify("application_credential.deleted", cred_id)

    async def check_app_cred_secret(
        self, cred: models.ApplicationCredential | None, secret: str
    ) -> bool:
        return await self.checker.verify(secret, cred.secret_hash if cred else None)

    # --- credentials (/v3/credentials and OS-EC2) ------------------------------------------
    def _encrypt(self, blob: str) -> str:
        return self.keys.fernet().encrypt(blob.encode()).decode()

    def decrypt(self, cred: models.Credential) -> str:
        return self.keys.fernet().decrypt(cred.encrypted_blob.encode()).decode()

    @staticmethod
    def ec2_id(blob: str) -> str:
        try:
            access = orjson.loads(blob)["access"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise errors.BadRequest(
                "An ec2 credential's blob must be JSON with an 'access' key."
            ) from None
        return hashlib.sha256(str(access).encode()).hexdigest()

    async def create_credential(self, values: dict[str, Any]) -> models.Credential:
        blob = values.pop("blob")
        cred_id = self.ec2_id(blob) if values.get("type") == "ec2" else models.new_id()
        if values.get("type") == "ec2" and not values.get("project_id"):
            raise errors.BadRequest("An ec2 credential needs a project_id.")
        async with self.context.db.session() as s:
            await must_get(s, models.User, values["user_id"], "user")
            if await s.get(models.Credential, cred_id) is not None:
                raise errors.Conflict(kind="credential", reason="Duplicate ID")
            cred = models.Credential(id=cred_id, encrypted_blob=self._encrypt(blob), extra={})
            apply_changes(cred, values, CREDENTIAL_COLUMNS)
            s.add(cred)
        return cred

    async def get_credential(self, cred_id: str) -> models.Credential:
        async with self.context.db.session() as s:
            return await must_get(s, models.Credential, cred_id, "credential")

    async def list_credentials(self, filters: dict[str, Any]) -> Sequence[models.Credential]:
        stmt = select(models.Credential).order_by(models.Credential.id)
        for key in ("user_id", "type", "project_id"):
            if key in filters:
                stmt = stmt.where(getattr(models.Credential, key) == filters[key])
        async with self.context.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def update_credential(self, cred_id: str, changes: dict[str, Any]) -> models.Credential:
        async with self.context.db.session() as s:
            cred = await must_get(s, models.Credential, cred_id, "credential")
            if "blob" in changes:
                blob = changes.pop("blob")
                if (changes.get("type") or cred.type) == "ec2":
                    self.ec2_id(blob)  # still JSON with an access key; the id stays, as Keystone
                cred.encrypted_blob = self._encrypt(blob)
            apply_changes(cred, changes, CREDENTIAL_COLUMNS)
        return cred

    async def delete_credential(self, cred_id: str) -> None:
        async with self.context.db.session() as s:
            await s.delete(await must_get(s, models.Credential, cred_id, "credential"))

    async def create_ec2(
        self, user_id: str, project_id: str
    ) -> tuple[models.Credential, dict[str, str]]:
        blob = {"access": uuid.uuid4().hex, "secret": uuid.uuid4().hex, "trust_id": None}
        cred = await self.create_credential(
            {
                "user_id": user_id,
                "project_id": project_id,
                "type": "ec2",
                "blob": orjson.dumps(blob).decode(),
            }
        )
        return cred, blob  # type: ignore[return-value]

    async def ec2_by_access(self, access: str) -> tuple[models.Credential, dict[str, Any]]:
        """The EC2 credential with this access key and its blob (used by the S3 API)."""
        cred = await self.get_credential(hashlib.sha256(access.encode()).hexdigest())
        if cred.type != "ec2":
            raise errors.NotFound(kind="credential", id=access)
        return cred, orjson.loads(self.decrypt(cred))
