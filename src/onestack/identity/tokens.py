"""Fernet tokens that validate without a database read, and the revocation events they obey.

The payload carries everything an API needs to build a request context (user, scope, role
ids and names, expiry, audit ids), packed with msgpack and encrypted with the primary key.
Revocation events live in the database and are mirrored in memory: they are reloaded every
``revocation_refresh`` seconds and pushed at once over the bus by the process that revokes.
"""

from __future__ import annotations

import base64
import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgpack
from cryptography.fernet import InvalidToken, MultiFernet

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.identity.keys import KeyRepository

PAYLOAD_VERSION = 1


def now_us() -> int:
    return time.time_ns() // 1000


def us_to_datetime(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC).replace(tzinfo=None)


def isoformat(value: datetime | None) -> str | None:
    """Keystone's timestamp format: ``2015-11-06T15:32:17.893769Z``."""
    return None if value is None else value.isoformat(timespec="microseconds") + "Z"


def new_audit_id() -> str:
    return base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")


_HEX_ID = re.compile(r"[0-9a-f]{32}")


def _pack_id(value: str | None) -> str | bytes | None:
    """A uuid4-hex id as its 16 bytes (half the size, as Keystone does); anything else as is."""
    return bytes.fromhex(value) if value is not None and _HEX_ID.fullmatch(value) else value


def _unpack_id(value: Any) -> Any:
    return value.hex() if isinstance(value, bytes) else value


@dataclass(slots=True)
class TokenData:
    user_id: str
    user_name: str
    user_domain_id: str
    user_domain_name: str
    methods: list[str]
    issued_at_us: int
    expires_at_us: int
    audit_ids: list[str]
    roles: list[tuple[str, str]] = field(default_factory=list)  # (id, name)
    project_id: str | None = None
    project_name: str | None = None
    project_domain_id: str | None = None
    project_domain_name: str | None = None
    domain_id: str | None = None
    domain_name: str | None = None
    system: bool = False
    app_cred: tuple[str, str, bool] | None = None  # (id, name, restricted)
    password_expires_at_us: int | None = None
    # (trust id, trustor id, trustee id, impersonation) of a trust-scoped token
    trust: tuple[str, str, str, bool] | None = None
    # (access token id, consumer id) of a token issued through OAuth1 delegation
    oauth: tuple[str, str] | None = None
    # (identity provider, protocol, group ids) of a federated user's token
    federation: tuple[str, str, list[str]] | None = None

    def pack(self) -> bytes:
        packed: bytes = msgpack.packb(
            [
                PAYLOAD_VERSION,
                _pack_id(self.user_id),
                self.user_name,
                _pack_id(self.user_domain_id),
                self.user_domain_name,
                self.methods,
                self.issued_at_us,
                self.expires_at_us,
                self.audit_ids,
                [[_pack_id(r[0]), r[1]] for r in self.roles],
                [
                    _pack_id(self.project_id),
                    self.project_name,
                    _pack_id(self.project_domain_id),
                    self.project_domain_name,
                ],
                [_pack_id(self.domain_id), self.domain_name],
                self.system,
                [_pack_id(self.app_cred[0]), *self.app_cred[1:]] if self.app_cred else None,
                self.password_expires_at_us,
                [*(_pack_id(x) for x in self.trust[:3]), self.trust[3]] if self.trust else None,
                [_pack_id(x) for x in self.oauth] if self.oauth else None,
                (
                    [
                        self.federation[0],
                        self.federation[1],
                        [_pack_id(g) for g in self.federation[2]],
                    ]
                    if self.federation
                    else None
                ),
            ]
        )
        return packed

    @classmethod
    def unpack(cls, raw: bytes) -> TokenData:
        fields: list[Any] = msgpack.unpackb(raw)
        if not fields or fields[0] != PAYLOAD_VERSION:
            raise ValueError("unknown token payload version")
        (_, uid, uname, udid, udname, methods, iat, exp, audit, roles, proj, dom, system,
         app_cred, pwexp, *rest) = fields  # fmt: skip
        # Tokens issued before trusts (or OAuth1) have no such field.
        trust = rest[0] if rest else None
        oauth = rest[1] if len(rest) > 1 else None
        fed = rest[2] if len(rest) > 2 else None
        return cls(
            user_id=_unpack_id(uid),
            user_name=uname,
            user_domain_id=_unpack_id(udid),
            user_domain_name=udname,
            methods=methods,
            issued_at_us=iat,
            expires_at_us=exp,
            audit_ids=audit,
            roles=[(_unpack_id(r[0]), r[1]) for r in roles],
            project_id=_unpack_id(proj[0]),
            project_name=proj[1],
            project_domain_id=_unpack_id(proj[2]),
            project_domain_name=proj[3],
            domain_id=_unpack_id(dom[0]),
            domain_name=dom[1],
            system=system,
            app_cred=(_unpack_id(app_cred[0]), app_cred[1], app_cred[2]) if app_cred else None,
            password_expires_at_us=pwexp,
            trust=(
                (_unpack_id(trust[0]), _unpack_id(trust[1]), _unpack_id(trust[2]), trust[3])
                if trust
                else None
            ),
            oauth=(_unpack_id(oauth[0]), _unpack_id(oauth[1])) if oauth else None,
            federation=(fed[0], fed[1], [_unpack_id(g) for g in fed[2]]) if fed else None,
        )

    def to_context(self, request_id: str, token: str) -> RequestContext:
        return RequestContext(request_id, **self.context_fields(token))

    def context_fields(self, token: str) -> dict[str, Any]:
        """Every ``RequestContext`` field but the request id."""
        return dict(
            user_id=self.user_id,
            user_name=self.user_name,
            user_domain_id=self.user_domain_id,
            user_domain_name=self.user_domain_name,
            project_id=self.project_id,
            project_name=self.project_name,
            project_domain_id=self.project_domain_id,
            project_domain_name=self.project_domain_name,
            domain_id=self.domain_id,
            domain_name=self.domain_name,
            system_scope="all" if self.system else None,
            roles=tuple(name for _, name in self.roles),
            role_ids=tuple(rid for rid, _ in self.roles),
            methods=tuple(self.methods),
            audit_ids=tuple(self.audit_ids),
            issued_at=us_to_datetime(self.issued_at_us),
            expires_at=us_to_datetime(self.expires_at_us),
            application_credential_id=self.app_cred[0] if self.app_cred else None,
            application_credential_name=self.app_cred[1] if self.app_cred else None,
            application_credential_restricted=self.app_cred[2] if self.app_cred else True,
            trust_id=self.trust[0] if self.trust else None,
            auth_token=token,
        )


@dataclass(frozen=True, slots=True)
class Revocation:
    """One revocation event: every set field must match the token."""

    issued_before_us: int
    audit_id: str | None = None
    user_id: str | None = None
    project_id: str | None = None
    domain_id: str | None = None
    role_id: str | None = None
    app_cred_id: str | None = None
    trust_id: str | None = None
    access_token_id: str | None = None
    consumer_id: str | None = None
    # A group a federated token carries (its groups are no memberships to revoke by user).
    group_id: str | None = None

    def matches(self, t: TokenData) -> bool:
        if t.issued_at_us > self.issued_before_us:
            return False
        if self.audit_id is not None and self.audit_id not in t.audit_ids:
            return False
        if self.user_id is not None and self.user_id != t.user_id:
            return False
        if self.project_id is not None and self.project_id != t.project_id:
            return False
        if self.domain_id is not None and self.domain_id not in (
            t.domain_id,
            t.user_domain_id,
            t.project_domain_id,
        ):
            return False
        if self.role_id is not None and all(rid != self.role_id for rid, _ in t.roles):
            return False
        if self.trust_id is not None and (t.trust is None or t.trust[0] != self.trust_id):
            return False
        if self.access_token_id is not None and (
            t.oauth is None or t.oauth[0] != self.access_token_id
        ):
            return False
        if self.consumer_id is not None and (t.oauth is None or t.oauth[1] != self.consumer_id):
            return False
        if self.group_id is not None and (
            t.federation is None or self.group_id not in t.federation[2]
        ):
            return False
        return self.app_cred_id is None or (
            t.app_cred is not None and t.app_cred[0] == self.app_cred_id
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


class RevocationList:
    """In-memory mirror of the revocation events, indexed by their most selective field."""

    def __init__(self) -> None:
        self.by_audit: dict[str, int] = {}
        self.by_user: dict[str, set[Revocation]] = {}
        self.others: set[Revocation] = set()
        self.last_id = 0

    def add(self, event: Revocation) -> None:
        only_audit = event.audit_id is not None and not any(
            (
                event.user_id,
                event.project_id,
                event.domain_id,
                event.role_id,
                event.app_cred_id,
                event.trust_id,
                event.access_token_id,
                event.consumer_id,
                event.group_id,
            )
        )
        if only_audit:
            assert event.audit_id is not None
            current = self.by_audit.get(event.audit_id, 0)
            self.by_audit[event.audit_id] = max(current, event.issued_before_us)
        elif event.user_id is not None:
            self.by_user.setdefault(event.user_id, set()).add(event)
        else:
            self.others.add(event)

    def is_revoked(self, t: TokenData) -> bool:
        for audit_id in t.audit_ids:
            before = self.by_audit.get(audit_id)
            if before is not None and t.issued_at_us <= before:
                return True
        for event in self.by_user.get(t.user_id, ()):
            if event.matches(t):
                return True
        return any(event.matches(t) for event in self.others)


# Verified payloads kept per token (a few hundred bytes each): enough for every client of a
# busy cloud, small enough that a flood of distinct tokens cannot grow the process much.
VERIFIED_CACHE_SIZE = 10_000

_UNAUTHORIZED = "The request you have made requires authentication."


class TokenProvider:
    """Issues and validates tokens; the ``TokenValidator`` every service's auth uses.

    A token that decrypted once is remembered (its payload and the context built from it):
    decrypting and unpacking were most of a validation's CPU. Only what cannot change is
    cached: expiry and the revocation events are checked on every call, so a revocation
    takes effect at once, and the cache is dropped whenever the key set changes (a rotation
    that removes a key must fail the tokens it signed)."""

    def __init__(self, keys: KeyRepository, revocations: RevocationList) -> None:
        self.keys = keys
        self.revocations = revocations
        self._verified: dict[str, tuple[TokenData, dict[str, Any]]] = {}
        self._verified_by: MultiFernet | None = None

    def issue(self, data: TokenData) -> str:
        token = self.keys.fernet().encrypt(data.pack())
        return token.decode().rstrip("=")

    def _verify(self, token: str) -> tuple[TokenData, dict[str, Any]]:
        """The token's payload (and context fields) if it is authentic; else 401."""
        fernet = self.keys.fernet()
        if fernet is not self._verified_by:
            self._verified.clear()
            self._verified_by = fernet
        hit = self._verified.get(token)
        if hit is not None:
            return hit
        if len(token) > 8192:
            raise errors.Unauthorized(_UNAUTHORIZED)
        padded = token + "=" * (-len(token) % 4)
        try:
            data = TokenData.unpack(fernet.decrypt(padded.encode()))
        except (InvalidToken, ValueError, TypeError, LookupError, msgpack.UnpackException):
            raise errors.Unauthorized(_UNAUTHORIZED) from None
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]  # the oldest entry
        entry = (data, data.context_fields(token))
        self._verified[token] = entry
        return entry

    def decode(self, token: str) -> TokenData:
        """The token's payload if it is authentic, unexpired and unrevoked; else 401."""
        return self._check(token)[0]

    def _check(self, token: str) -> tuple[TokenData, dict[str, Any]]:
        entry = self._verify(token)
        data = entry[0]
        if data.expires_at_us <= now_us() or self.revocations.is_revoked(data):
            raise errors.Unauthorized(_UNAUTHORIZED)
        return entry

    def validate(self, token: str, request_id: str) -> RequestContext:
        return RequestContext(request_id, **self._check(token)[1])
