"""Fernet tokens: payload round trips, validation failures, revocation, request contexts."""

from __future__ import annotations

import base64
import dataclasses
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgpack
import pytest

from onestack.common import errors
from onestack.identity.keys import KeyRepository
from onestack.identity.tokens import (
    Revocation,
    RevocationList,
    TokenData,
    TokenProvider,
    isoformat,
    new_audit_id,
    now_us,
    us_to_datetime,
)

HOUR_US = 3_600_000_000


def make(**kw: Any) -> TokenData:
    now = now_us()
    values: dict[str, Any] = {
        "user_id": "u1",
        "user_name": "alice",
        "user_domain_id": "default",
        "user_domain_name": "Default",
        "methods": ["password"],
        "issued_at_us": now,
        "expires_at_us": now + HOUR_US,
        "audit_ids": [new_audit_id()],
    }
    values.update(kw)
    return TokenData(**values)


def project_token(**kw: Any) -> TokenData:
    values: dict[str, Any] = {
        "roles": [("rid-member", "member"), ("rid-reader", "reader")],
        "project_id": "p1",
        "project_name": "demo",
        "project_domain_id": "d1",
        "project_domain_name": "Domain One",
    }
    values.update(kw)
    return make(**values)


def domain_token(**kw: Any) -> TokenData:
    values: dict[str, Any] = {
        "roles": [("rid-admin", "admin")],
        "domain_id": "d1",
        "domain_name": "Domain One",
    }
    values.update(kw)
    return make(**values)


def system_token(**kw: Any) -> TokenData:
    values: dict[str, Any] = {"roles": [("rid-reader", "reader")], "system": True}
    values.update(kw)
    return make(**values)


def app_cred_token(**kw: Any) -> TokenData:
    values: dict[str, Any] = {
        "methods": ["application_credential"],
        "app_cred": ("ac1", "ci-bot", False),
    }
    values.update(kw)
    return project_token(**values)


ALL_KINDS = {
    "project": project_token,
    "domain": domain_token,
    "system": system_token,
    "unscoped": make,
    "app_cred": app_cred_token,
}


@pytest.fixture
def keys(tmp_path: Path) -> KeyRepository:
    repo = KeyRepository(tmp_path / "fernet-keys")
    repo.initialize()
    return repo


@pytest.fixture
def revocations() -> RevocationList:
    return RevocationList()


@pytest.fixture
def provider(keys: KeyRepository, revocations: RevocationList) -> TokenProvider:
    return TokenProvider(keys, revocations)


# --- payload -------------------------------------------------------------------------------
class TestPayload:
    @pytest.mark.parametrize("kind", sorted(ALL_KINDS))
    def test_pack_unpack_round_trip(self, kind: str) -> None:
        data = ALL_KINDS[kind](password_expires_at_us=now_us() + 86_400_000_000)
        assert TokenData.unpack(data.pack()) == data

    def test_round_trip_keeps_types(self) -> None:
        back = TokenData.unpack(app_cred_token().pack())
        assert back.app_cred == ("ac1", "ci-bot", False)
        assert isinstance(back.app_cred, tuple)
        assert all(isinstance(r, tuple) for r in back.roles)
        assert back.roles == [("rid-member", "member"), ("rid-reader", "reader")]

    def test_unscoped_has_no_scope(self) -> None:
        back = TokenData.unpack(make().pack())
        assert back.project_id is None
        assert back.domain_id is None
        assert back.system is False
        assert back.roles == []
        assert back.app_cred is None
        assert back.password_expires_at_us is None

    def test_rescoped_audit_chain_round_trips(self) -> None:
        data = project_token(audit_ids=["child", "parent"], methods=["token", "password"])
        back = TokenData.unpack(data.pack())
        assert back.audit_ids == ["child", "parent"]
        assert back.methods == ["token", "password"]

    @pytest.mark.parametrize(
        "value",
        [
            "3f2b6c0d9e8a4b7c8d1e2f3a4b5c6d7e",
            "3F2B6C0D9E8A4B7C8D1E2F3A4B5C6D7E",
            "default",
            "x" * 32,
            "",
            "0" * 32,
        ],  # fmt: skip - fixed values: xdist workers must collect alike
    )
    def test_ids_of_every_shape_round_trip(self, value: str) -> None:
        data = app_cred_token(
            user_id=value,
            user_domain_id=value,
            project_id=value,
            project_domain_id=value,
            domain_id=value,
            roles=[(value, "member")],
            app_cred=(value, "n", True),
        )
        assert TokenData.unpack(data.pack()) == data

    def test_hex_ids_are_packed_compactly(self) -> None:
        ids = {"user_id": "a" * 32, "project_id": "b" * 32, "roles": [("c" * 32, "member")]}
        compact = len(project_token(**ids).pack())
        text = {"user_id": "u" * 32, "project_id": "p" * 32, "roles": [("r" * 32, "member")]}
        plain = len(project_token(**text).pack())
        assert compact <= plain - 3 * 16

    def test_payload_with_ids_as_text_still_decodes(self) -> None:
        # Tokens issued before ids were packed as bytes carry them as text.
        user, project, role = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
        raw = msgpack.packb(
            [1, user, "alice", "default", "Default", ["password"], 1, 2, ["a"],
             [[role, "member"]], [project, "demo", "default", "Default"], [None, None],
             False, None, None]
        )  # fmt: skip
        back = TokenData.unpack(raw)
        assert (back.user_id, back.project_id, back.roles) == (user, project, [(role, "member")])

    def test_unknown_payload_version(self) -> None:
        raw = msgpack.unpackb(make().pack())
        raw[0] = 99
        with pytest.raises(ValueError):
            TokenData.unpack(msgpack.packb(raw))

    def test_empty_payload(self) -> None:
        with pytest.raises(ValueError):
            TokenData.unpack(msgpack.packb([]))


# --- issue and decode ----------------------------------------------------------------------
class TestProvider:
    @pytest.mark.parametrize("kind", sorted(ALL_KINDS))
    def test_issue_decode(self, provider: TokenProvider, kind: str) -> None:
        data = ALL_KINDS[kind]()
        token = provider.issue(data)
        assert provider.decode(token) == data

    def test_token_is_url_safe_without_padding(self, provider: TokenProvider) -> None:
        token = provider.issue(project_token())
        assert "=" not in token
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    def test_tokens_differ_each_time(self, provider: TokenProvider) -> None:
        data = project_token()
        assert provider.issue(data) != provider.issue(data)

    def test_size_with_ten_roles(self, provider: TokenProvider) -> None:
        roles = [(uuid.uuid4().hex, f"role-with-a-long-name-{i}") for i in range(10)]
        data = project_token(
            user_id=uuid.uuid4().hex,
            user_name="alice.with.a.long.name@example.com",
            user_domain_id="default",
            project_id=uuid.uuid4().hex,
            project_name="a-project-with-a-long-name",
            project_domain_id="default",
            roles=roles,
            audit_ids=[new_audit_id(), new_audit_id()],
            methods=["token", "password"],
            password_expires_at_us=now_us() + HOUR_US,
        )
        token = provider.issue(data)
        assert len(token) < 1000
        assert provider.decode(token).roles == roles

    def test_expired(self, provider: TokenProvider) -> None:
        now = now_us()
        token = provider.issue(project_token(issued_at_us=now - 2 * HOUR_US, expires_at_us=now - 1))
        with pytest.raises(errors.Unauthorized) as info:
            provider.decode(token)
        assert info.value.code == 401

    def test_expiring_exactly_now_is_expired(
        self, provider: TokenProvider, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        data = project_token()
        token = provider.issue(data)
        monkeypatch.setattr("onestack.identity.tokens.now_us", lambda: data.expires_at_us)
        with pytest.raises(errors.Unauthorized):
            provider.decode(token)
        monkeypatch.setattr("onestack.identity.tokens.now_us", lambda: data.expires_at_us - 1)
        assert provider.decode(token) == data

    def test_tampered_character(self, provider: TokenProvider) -> None:
        token = provider.issue(project_token())
        middle = len(token) // 2
        swapped = "A" if token[middle] != "A" else "B"
        tampered = token[:middle] + swapped + token[middle + 1 :]
        with pytest.raises(errors.Unauthorized):
            provider.decode(tampered)

    @pytest.mark.parametrize("offset", [0, 9, 30, 60, -40, -2])
    def test_tampered_byte(self, provider: TokenProvider, offset: int) -> None:
        token = provider.issue(project_token())
        raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        raw[offset] ^= 0x01
        tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
        with pytest.raises(errors.Unauthorized):
            provider.decode(tampered)

    def test_truncated(self, provider: TokenProvider) -> None:
        token = provider.issue(project_token())
        with pytest.raises(errors.Unauthorized):
            provider.decode(token[:-10])

    @pytest.mark.parametrize("junk", ["", "x", "not a token!", "gAAAAA", "%%%%"])
    def test_junk(self, provider: TokenProvider, junk: str) -> None:
        with pytest.raises(errors.Unauthorized):
            provider.decode(junk)

    def test_huge_token_refused(self, provider: TokenProvider) -> None:
        with pytest.raises(errors.Unauthorized):
            provider.decode("A" * 9000)

    def test_token_from_another_repository(self, provider: TokenProvider, tmp_path: Path) -> None:
        other_keys = KeyRepository(tmp_path / "other")
        other_keys.initialize()
        foreign = TokenProvider(other_keys, RevocationList()).issue(project_token())
        with pytest.raises(errors.Unauthorized):
            provider.decode(foreign)

    def test_authentic_but_not_a_payload(
        self, provider: TokenProvider, keys: KeyRepository
    ) -> None:
        for raw in (b"not msgpack \xc1", msgpack.packb({"a": 1}), msgpack.packb([1, "u1"])):
            token = keys.fernet().encrypt(raw).decode().rstrip("=")
            with pytest.raises(errors.Unauthorized):
                provider.decode(token)

    def test_validate_gives_context(self, provider: TokenProvider) -> None:
        data = project_token()
        token = provider.issue(data)
        ctx = provider.validate(token, "req-42")
        assert ctx.request_id == "req-42"
        assert ctx.auth_token == token
        assert ctx.user_id == "u1"
        assert ctx.project_id == "p1"


# --- the verified-token cache ---------------------------------------------------------------
class TestVerifiedCache:
    def test_cached_token_still_obeys_revocation(
        self, provider: TokenProvider, revocations: RevocationList
    ) -> None:
        data = project_token()
        token = provider.issue(data)
        assert provider.validate(token, "req-1").project_id == "p1"  # now cached
        revocations.add(Revocation(now_us(), user_id="u1"))
        with pytest.raises(errors.Unauthorized):
            provider.validate(token, "req-2")
        with pytest.raises(errors.Unauthorized):
            provider.decode(token)

    def test_cached_token_still_expires(
        self, provider: TokenProvider, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        data = project_token()
        token = provider.issue(data)
        assert provider.decode(token).user_id == "u1"
        monkeypatch.setattr("onestack.identity.tokens.now_us", lambda: data.expires_at_us + 1)
        with pytest.raises(errors.Unauthorized):
            provider.validate(token, "req-1")

    def test_each_context_has_its_own_request_id(self, provider: TokenProvider) -> None:
        token = provider.issue(project_token())
        first, second = provider.validate(token, "req-1"), provider.validate(token, "req-2")
        assert (first.request_id, second.request_id) == ("req-1", "req-2")
        assert first.auth_token == second.auth_token == token

    def test_token_of_a_dropped_key_fails_though_cached(
        self, provider: TokenProvider, keys: KeyRepository, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        token = provider.issue(project_token())
        assert provider.decode(token).user_id == "u1"
        monkeypatch.setattr("onestack.identity.keys.RECHECK_SECONDS", 0.0)
        for _ in range(keys.max_active_keys):  # the signing key rotates out
            keys.rotate()
        with pytest.raises(errors.Unauthorized):
            provider.decode(token)

    def test_cache_is_bounded(
        self, provider: TokenProvider, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("onestack.identity.tokens.VERIFIED_CACHE_SIZE", 3)
        tokens = [provider.issue(project_token()) for _ in range(5)]
        for token in tokens:
            provider.decode(token)
        assert len(provider._verified) == 3
        assert provider.decode(tokens[0]).user_id == "u1"  # evicted, verified again


# --- revocation ----------------------------------------------------------------------------
class TestRevocation:
    def test_by_audit_id(self, provider: TokenProvider, revocations: RevocationList) -> None:
        data = project_token()
        token = provider.issue(data)
        other = provider.issue(project_token())
        revocations.add(Revocation(now_us(), audit_id=data.audit_ids[0]))
        with pytest.raises(errors.Unauthorized):
            provider.decode(token)
        assert provider.decode(other).user_id == "u1"

    def test_audit_id_revokes_rescoped_child(
        self, provider: TokenProvider, revocations: RevocationList
    ) -> None:
        parent = make()
        child = project_token(audit_ids=[new_audit_id(), parent.audit_ids[-1]])
        child_token = provider.issue(child)
        assert provider.decode(child_token) == child
        revocations.add(Revocation(now_us(), audit_id=parent.audit_ids[0]))
        with pytest.raises(errors.Unauthorized):
            provider.decode(child_token)

    def test_revoking_the_child_leaves_the_parent(
        self, provider: TokenProvider, revocations: RevocationList
    ) -> None:
        parent = make()
        child = project_token(audit_ids=[new_audit_id(), parent.audit_ids[0]])
        parent_token = provider.issue(parent)
        revocations.add(Revocation(now_us(), audit_id=child.audit_ids[0]))
        assert revocations.is_revoked(child)
        assert provider.decode(parent_token) == parent

    def test_audit_id_keeps_latest_cutoff(self, revocations: RevocationList) -> None:
        data = project_token()
        revocations.add(Revocation(data.issued_at_us, audit_id=data.audit_ids[0]))
        revocations.add(Revocation(data.issued_at_us - 10, audit_id=data.audit_ids[0]))
        assert revocations.is_revoked(data)

    def test_by_user(self, provider: TokenProvider, revocations: RevocationList) -> None:
        mine = [provider.issue(f()) for f in ALL_KINDS.values()]
        theirs = provider.issue(project_token(user_id="u2"))
        revocations.add(Revocation(now_us(), user_id="u1"))
        for token in mine:
            with pytest.raises(errors.Unauthorized):
                provider.decode(token)
        assert provider.decode(theirs).user_id == "u2"

    def test_by_user_and_project(
        self, provider: TokenProvider, revocations: RevocationList
    ) -> None:
        p1 = provider.issue(project_token())
        p2 = provider.issue(project_token(project_id="p2"))
        domain = provider.issue(domain_token())
        other_user = provider.issue(project_token(user_id="u2"))
        revocations.add(Revocation(now_us(), user_id="u1", project_id="p1"))
        with pytest.raises(errors.Unauthorized):
            provider.decode(p1)
        assert provider.decode(p2).project_id == "p2"
        assert provider.decode(domain).domain_id == "d1"
        assert provider.decode(other_user).user_id == "u2"

    def test_by_project_only(self, provider: TokenProvider, revocations: RevocationList) -> None:
        a = provider.issue(project_token())
        b = provider.issue(project_token(user_id="u2"))
        c = provider.issue(project_token(project_id="p2"))
        revocations.add(Revocation(now_us(), project_id="p1"))
        for token in (a, b):
            with pytest.raises(errors.Unauthorized):
                provider.decode(token)
        assert provider.decode(c).project_id == "p2"

    def test_by_domain(self, revocations: RevocationList) -> None:
        revoked = [domain_token(), project_token(), make(user_domain_id="d1")]
        kept = [domain_token(domain_id="d2"), project_token(project_domain_id="d2"), system_token()]
        revocations.add(Revocation(now_us(), domain_id="d1"))
        # A domain-scoped token, a project in d1, a user of d1.
        assert [revocations.is_revoked(t) for t in revoked] == [True, True, True]
        assert [revocations.is_revoked(t) for t in kept] == [False, False, False]

    def test_by_role_id(self, revocations: RevocationList) -> None:
        with_role = project_token()
        kept = [project_token(roles=[("rid-reader", "reader")]), make()]
        revocations.add(Revocation(now_us(), role_id="rid-member"))
        assert revocations.is_revoked(with_role)
        assert [revocations.is_revoked(t) for t in kept] == [False, False]

    def test_by_user_and_role(self, revocations: RevocationList) -> None:
        revoked = project_token()
        kept = [project_token(user_id="u2"), project_token(roles=[("rid-reader", "reader")])]
        revocations.add(Revocation(now_us(), user_id="u1", role_id="rid-member"))
        assert revocations.is_revoked(revoked)
        assert [revocations.is_revoked(t) for t in kept] == [False, False]

    def test_by_app_cred(self, provider: TokenProvider, revocations: RevocationList) -> None:
        via_app_cred = provider.issue(app_cred_token())
        via_password = provider.issue(project_token())
        other_cred = provider.issue(
            project_token(methods=["application_credential"], app_cred=("ac2", "x", True))
        )
        revocations.add(Revocation(now_us(), app_cred_id="ac1"))
        with pytest.raises(errors.Unauthorized):
            provider.decode(via_app_cred)
        assert provider.decode(via_password).app_cred is None
        assert provider.decode(other_cred).app_cred == ("ac2", "x", True)

    @pytest.mark.parametrize(
        "fields",
        [
            {"user_id": "u1"},
            {"user_id": "u1", "project_id": "p1"},
            {"project_id": "p1"},
            {"domain_id": "d1"},
            {"role_id": "rid-member"},
            {"app_cred_id": "ac1"},
            {"audit_id": "AUDIT"},
        ],
    )
    def test_tokens_issued_after_the_event_survive(
        self, revocations: RevocationList, fields: dict[str, str]
    ) -> None:
        event_time = now_us()
        revocations.add(Revocation(event_time, **fields))
        before = app_cred_token(issued_at_us=event_time - 1, audit_ids=["AUDIT"])
        at = app_cred_token(issued_at_us=event_time, audit_ids=["AUDIT"])
        after = app_cred_token(issued_at_us=event_time + 1, audit_ids=["AUDIT"])
        assert revocations.is_revoked(before)
        assert revocations.is_revoked(at)
        assert not revocations.is_revoked(after)

    def test_new_token_after_revocation_is_valid(
        self, provider: TokenProvider, revocations: RevocationList
    ) -> None:
        old = provider.issue(project_token())
        revocations.add(Revocation(now_us(), user_id="u1"))
        with pytest.raises(errors.Unauthorized):
            provider.decode(old)
        new = project_token(issued_at_us=now_us() + 1)
        assert provider.decode(provider.issue(new)) == new

    def test_every_field_must_match(self) -> None:
        event = Revocation(now_us() + HOUR_US, user_id="u1", project_id="p1", role_id="rid-member")
        assert event.matches(project_token())
        assert not event.matches(project_token(project_id="p2"))
        assert not event.matches(project_token(user_id="u2"))
        assert not event.matches(project_token(roles=[("rid-admin", "admin")]))

    def test_to_dict_round_trip(self) -> None:
        event = Revocation(123, user_id="u1", project_id="p1")
        as_dict = event.to_dict()
        assert as_dict == {
            "issued_before_us": 123,
            "audit_id": None,
            "user_id": "u1",
            "project_id": "p1",
            "domain_id": None,
            "role_id": None,
            "app_cred_id": None,
            "trust_id": None,
            "access_token_id": None,
            "consumer_id": None,
            "group_id": None,
        }
        assert Revocation(**as_dict) == event

    def test_trust_tokens_round_trip_and_die_with_their_trust(self) -> None:
        trust = ("a" * 32, "b" * 32, "c" * 32, True)
        token = project_token(trust=trust)
        assert TokenData.unpack(token.pack()) == token
        assert token.to_context("req", "t").trust_id == trust[0]
        event = Revocation(now_us() + HOUR_US, trust_id=trust[0])
        assert event.matches(token)
        assert not event.matches(project_token())
        revocations = RevocationList()
        revocations.add(event)
        assert revocations.is_revoked(token) and not revocations.is_revoked(project_token())

    def test_oauth_tokens_die_with_their_access_token_or_consumer(self) -> None:
        oauth = ("a" * 32, "b" * 32)
        token = project_token(oauth=oauth, methods=["oauth1"])
        assert TokenData.unpack(token.pack()) == token
        for event in (
            Revocation(now_us() + HOUR_US, access_token_id=oauth[0]),
            Revocation(now_us() + HOUR_US, consumer_id=oauth[1]),
        ):
            assert event.matches(token) and not event.matches(project_token())
            revocations = RevocationList()
            revocations.add(event)
            assert revocations.is_revoked(token) and not revocations.is_revoked(project_token())

    def test_federated_tokens_round_trip_and_die_with_their_group(self) -> None:
        token = make(federation=("idp", "saml2", ["a" * 32, "group-2"]), methods=["saml2"])
        assert TokenData.unpack(token.pack()) == token
        event = Revocation(now_us() + HOUR_US, group_id="group-2")
        assert event.matches(token) and not event.matches(make())
        assert not Revocation(now_us() + HOUR_US, group_id="group-3").matches(token)
        revocations = RevocationList()
        revocations.add(event)
        assert revocations.is_revoked(token) and not revocations.is_revoked(make())

    def test_empty_list_revokes_nothing(self, revocations: RevocationList) -> None:
        for f in ALL_KINDS.values():
            assert not revocations.is_revoked(f())


# --- request context -----------------------------------------------------------------------
class TestContext:
    def test_project_context(self) -> None:
        data = project_token(methods=["password", "totp"])
        ctx = data.to_context("req-1", "tok")
        assert ctx.request_id == "req-1"
        assert ctx.auth_token == "tok"
        assert (ctx.user_id, ctx.user_name) == ("u1", "alice")
        assert (ctx.user_domain_id, ctx.user_domain_name) == ("default", "Default")
        assert (ctx.project_id, ctx.project_name) == ("p1", "demo")
        assert (ctx.project_domain_id, ctx.project_domain_name) == ("d1", "Domain One")
        assert ctx.domain_id is None
        assert ctx.system_scope is None
        assert ctx.scope == "project"
        assert ctx.roles == ("member", "reader")
        assert ctx.role_ids == ("rid-member", "rid-reader")
        assert ctx.methods == ("password", "totp")
        assert ctx.audit_ids == tuple(data.audit_ids)
        assert ctx.application_credential_id is None
        assert ctx.application_credential_restricted is True
        assert not ctx.is_admin

    def test_times(self) -> None:
        issued = int(datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC).timestamp() * 1e6)
        data = project_token(issued_at_us=issued, expires_at_us=issued + HOUR_US)
        ctx = data.to_context("r", "t")
        assert ctx.issued_at == datetime(2030, 1, 2, 3, 4, 5, 678901)
        assert ctx.expires_at == datetime(2030, 1, 2, 4, 4, 5, 678901)
        assert ctx.issued_at is not None and ctx.issued_at.tzinfo is None
        assert isoformat(ctx.issued_at) == "2030-01-02T03:04:05.678901Z"
        assert isoformat(None) is None

    def test_us_to_datetime(self) -> None:
        assert us_to_datetime(0) == datetime(1970, 1, 1)
        assert us_to_datetime(1_500_000) == datetime(1970, 1, 1, 0, 0, 1, 500000)

    def test_domain_context(self) -> None:
        ctx = domain_token().to_context("r", "t")
        assert ctx.domain_id == "d1"
        assert ctx.domain_name == "Domain One"
        assert ctx.project_id is None
        assert ctx.scope == "domain"
        assert ctx.is_admin
        assert ctx.policy_credentials()["domain_id"] == "d1"

    def test_system_context(self) -> None:
        ctx = system_token().to_context("r", "t")
        assert ctx.system_scope == "all"
        assert ctx.scope == "system"
        assert ctx.policy_credentials()["system_scope"] == "all"

    def test_unscoped_context(self) -> None:
        ctx = make().to_context("r", "t")
        assert ctx.scope is None
        assert ctx.roles == ()

    def test_app_cred_context(self) -> None:
        ctx = app_cred_token().to_context("r", "t")
        assert ctx.application_credential_id == "ac1"
        assert ctx.application_credential_name == "ci-bot"
        assert ctx.application_credential_restricted is False
        assert ctx.methods == ("application_credential",)

    def test_policy_credentials(self) -> None:
        creds = project_token().to_context("r", "t").policy_credentials()
        assert creds["user_id"] == "u1"
        assert creds["project_id"] == "p1"
        assert creds["roles"] == ["member", "reader"]
        assert creds["is_admin"] is False
        assert creds["token"]["project"]["domain"]["id"] == "d1"


def test_audit_ids_are_unique_and_unpadded() -> None:
    ids = {new_audit_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 22 and "=" not in i for i in ids)


def test_payload_field_order_is_pinned() -> None:
    # The payload order is the wire format: pin the field list so a change is deliberate.
    assert [f.name for f in dataclasses.fields(TokenData)] == [
        "user_id",
        "user_name",
        "user_domain_id",
        "user_domain_name",
        "methods",
        "issued_at_us",
        "expires_at_us",
        "audit_ids",
        "roles",
        "project_id",
        "project_name",
        "project_domain_id",
        "project_domain_name",
        "domain_id",
        "domain_name",
        "system",
        "app_cred",
        "password_expires_at_us",
        "trust",  # appended: tokens issued before trusts unpack without it
        "oauth",  # appended: likewise for OAuth1
        "federation",  # and for federation
    ]
