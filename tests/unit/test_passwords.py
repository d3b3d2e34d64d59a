"""bcrypt hashing and verification (at the cheapest cost, rounds=4, to stay fast)."""

from __future__ import annotations

import bcrypt
import pytest

from onestack.identity import passwords
from onestack.identity.passwords import PasswordChecker, hash_password, hash_password_sync

ROUNDS = 4


@pytest.fixture(scope="module")
def checker() -> PasswordChecker:
    return PasswordChecker(ROUNDS)


def test_hash_is_bcrypt_at_the_given_cost() -> None:
    hashed = hash_password_sync("s3cret", ROUNDS)
    assert hashed.startswith("$2b$04$")
    assert len(hashed) == 60
    assert bcrypt.checkpw(b"s3cret", hashed.encode())


def test_hashes_are_salted() -> None:
    assert hash_password_sync("same", ROUNDS) != hash_password_sync("same", ROUNDS)


async def test_async_hash_and_verify(checker: PasswordChecker) -> None:
    hashed = await hash_password("s3cret", ROUNDS)
    assert await checker.verify("s3cret", hashed)
    assert not await checker.verify("s3cret!", hashed)
    assert not await checker.verify("S3cret", hashed)
    assert not await checker.verify("", hashed)


async def test_unicode_secret(checker: PasswordChecker) -> None:
    hashed = hash_password_sync("pässwörd-🔑", ROUNDS)
    assert await checker.verify("pässwörd-🔑", hashed)
    assert not await checker.verify("passwort-🔑", hashed)


async def test_empty_secret(checker: PasswordChecker) -> None:
    hashed = hash_password_sync("", ROUNDS)
    assert await checker.verify("", hashed)
    assert not await checker.verify(" ", hashed)


async def test_long_secret_is_cut_at_72_bytes(checker: PasswordChecker) -> None:
    secret = "a" * 72 + "tail"
    hashed = hash_password_sync(secret, ROUNDS)  # bcrypt>=5 would refuse more than 72 bytes
    assert await checker.verify(secret, hashed)
    assert await checker.verify("a" * 72 + "another tail", hashed)
    assert await checker.verify("a" * 72, hashed)
    assert not await checker.verify("a" * 71, hashed)
    assert not await checker.verify("a" * 71 + "b" + "tail", hashed)


async def test_cut_counts_bytes_not_characters(checker: PasswordChecker) -> None:
    # 36 two-byte characters are 72 bytes: the 37th character is beyond the cut.
    secret = "é" * 36
    hashed = hash_password_sync(secret + "x", ROUNDS)
    assert await checker.verify(secret, hashed)
    assert await checker.verify(secret + "yz", hashed)
    assert not await checker.verify("é" * 35, hashed)


async def test_cut_inside_a_multibyte_character(checker: PasswordChecker) -> None:
    # 71 ASCII bytes then a two-byte character: the cut falls between its bytes.
    secret = "a" * 71 + "é"
    hashed = hash_password_sync(secret, ROUNDS)
    assert await checker.verify(secret, hashed)
    assert await checker.verify("a" * 71 + "è", hashed)  # same first byte 0xC3
    assert not await checker.verify("a" * 71, hashed)


async def test_verify_against_garbage_hash_is_false(checker: PasswordChecker) -> None:
    assert not await checker.verify("x", "not-a-bcrypt-hash")
    assert not await checker.verify("x", "")


async def test_none_hash_is_false_but_costs_a_hash(
    checker: PasswordChecker, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = bcrypt.checkpw

    def spy(secret: bytes, hashed: bytes) -> bool:
        calls.append((secret, hashed))
        return real(secret, hashed)

    monkeypatch.setattr(passwords.bcrypt, "checkpw", spy)
    assert not await checker.verify("anything", None)
    assert len(calls) == 1
    secret, decoy = calls[0]
    assert secret == b"anything"
    # A real hash at the configured cost, so an unknown user takes as long as a known one.
    assert decoy.startswith(b"$2b$04$")
    assert len(decoy) == 60

    # Even the decoy's own password does not pass for a user without a hash.
    assert not await checker.verify("decoy-password-never-matches", None)
    assert len(calls) == 2


async def test_decoy_cost_follows_rounds() -> None:
    checker = PasswordChecker(5)
    hashed = hash_password_sync("x", 5)
    assert hashed.startswith("$2b$05$")
    assert await checker.verify("x", hashed)
    assert not await checker.verify("x", None)
    assert (await checker.decoy()).startswith("$2b$05$")
    assert await checker.decoy() == await checker.decoy()  # made once
