"""Key pairs: a user's public keys, by name (imported, or generated with the private half
returned once)."""

from __future__ import annotations

import base64
import builtins
import datetime
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.db import utcnow
from onestack.common.quota import lock_quota
from onestack.compute import models
from onestack.compute.service.base import ComputeContext
from onestack.compute.service.quotas import Quotas


class KeypairNotFound(errors.NotFound):
    template = "Keypair {name} not found for user {user_id}"


class KeypairExists(errors.Conflict):
    template = "Key pair '{name}' already exists."


class InvalidKeypair(errors.BadRequest):
    template = "Keypair data is invalid: {reason}"


class KeypairQuotaExceeded(errors.Forbidden):
    template = "Quota exceeded, too many key pairs."


@dataclass
class NewKeypair:
    row: models.KeyPair
    private_key: str | None


def ssh_fingerprint(public_key: str) -> str:
    """Nova's fingerprint of an SSH key: the MD5 of the key blob, in colon-separated hex."""
    try:
        serialization.load_ssh_public_key(public_key.strip().encode())
        blob = base64.b64decode(public_key.strip().split()[1], validate=True)
    except (
        ValueError,
        IndexError,
        TypeError,
        UnicodeError,
        NotImplementedError,
        UnsupportedAlgorithm,
    ):
        raise InvalidKeypair(reason="failed to generate fingerprint") from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def x509_fingerprint(certificate: str) -> str:
    """Nova's fingerprint of an x509 certificate: the SHA-1 of its DER form."""
    try:
        cert = x509.load_pem_x509_certificate(certificate.encode())
    except ValueError:
        raise InvalidKeypair(reason="failed to generate X509 fingerprint") from None
    digest = cert.fingerprint(hashes.SHA1()).hex()  # noqa: S303 - the fingerprint Nova shows
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def generate_ssh() -> tuple[str, str]:
    """A new RSA key: (private key PEM, public key in OpenSSH form)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return private, public.decode() + " Generated-by-Nova"


def generate_x509(user_id: str) -> tuple[str, str]:
    """A new self-signed certificate for ``user_id``: (private key PEM, certificate PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, user_id)])
    now = utcnow()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return private, cert.public_bytes(serialization.Encoding.PEM).decode()


class Keypairs:
    def __init__(self, context: ComputeContext, quotas: Quotas | None = None) -> None:
        self.context = context
        self.quotas = quotas or Quotas(context)

    async def get(self, user_id: str, name: str) -> models.KeyPair:
        async with self.context.db.session() as s:
            row = await s.scalar(
                select(models.KeyPair).where(
                    models.KeyPair.user_id == user_id, models.KeyPair.name == name
                )
            )
            if row is None:
                raise KeypairNotFound(name=name, user_id=user_id)
            return row

    async def list(
        self, user_id: str, limit: int | None = None, marker: str | None = None
    ) -> builtins.list[models.KeyPair]:
        async with self.context.db.session() as s:
            stmt = select(models.KeyPair).where(models.KeyPair.user_id == user_id)
            if marker is not None:
                found = await s.scalar(
                    select(models.KeyPair.id).where(
                        models.KeyPair.user_id == user_id, models.KeyPair.name == marker
                    )
                )
                if found is None:
                    raise errors.BadRequest(f"marker [{marker}] not found")
                stmt = stmt.where(models.KeyPair.name > marker)
            stmt = stmt.order_by(models.KeyPair.name)
            if limit is not None:
                stmt = stmt.limit(limit)
            return list(await s.scalars(stmt))

    async def count(self, user_id: str, session: AsyncSession | None = None) -> int:
        stmt = (
            select(func.count())
            .select_from(models.KeyPair)
            .where(models.KeyPair.user_id == user_id)
        )
        if session is not None:
            return int(await session.scalar(stmt) or 0)
        async with self.context.db.session() as s:
            return int(await s.scalar(stmt) or 0)

    async def create(
        self,
        user_id: str,
        project_id: str,
        name: str,
        key_type: str = "ssh",
        public_key: str | None = None,
    ) -> NewKeypair:
        """Import ``public_key``, or generate a key pair when it is None (the private key is
        then returned, and never stored)."""
        private: str | None = None
        if public_key is None:
            private, public_key = generate_x509(user_id) if key_type == "x509" else generate_ssh()
        fingerprint = (
            x509_fingerprint(public_key) if key_type == "x509" else ssh_fingerprint(public_key)
        )
        limit = (await self.quotas.user_limits(project_id, user_id))["key_pairs"]
        async with self.context.db.session() as s:
            if limit >= 0:  # counted under the user's lock (key pairs are a user's quota)
                await lock_quota(s, f"compute-keypairs:{user_id}")
                if await self.count(user_id, s) + 1 > limit:
                    raise KeypairQuotaExceeded()
            exists = await s.scalar(
                select(models.KeyPair.id).where(
                    models.KeyPair.user_id == user_id, models.KeyPair.name == name
                )
            )
            if exists is not None:
                raise KeypairExists(name=name)
            row = models.KeyPair(
                user_id=user_id,
                name=name,
                type=key_type,
                public_key=public_key,
                fingerprint=fingerprint,
                created_at=utcnow(),
            )
            s.add(row)
            await s.flush()
        return NewKeypair(row, private)

    async def delete(self, user_id: str, name: str) -> None:
        async with self.context.db.session() as s:
            row = await s.scalar(
                select(models.KeyPair).where(
                    models.KeyPair.user_id == user_id, models.KeyPair.name == name
                )
            )
            if row is None:
                raise KeypairNotFound(name=name, user_id=user_id)
            await s.delete(row)
