"""Fernet key repositories: layout on disk, rotation, and what tokens survive it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken

from onestack.common import errors
from onestack.identity.keys import KeyRepository
from onestack.identity.tokens import RevocationList, TokenData, TokenProvider, now_us


def key_files(directory: Path) -> list[int]:
    return sorted(int(p.name) for p in directory.iterdir() if p.name.isdigit())


def token_data() -> TokenData:
    now = now_us()
    return TokenData(
        user_id="u1",
        user_name="alice",
        user_domain_id="default",
        user_domain_name="Default",
        methods=["password"],
        issued_at_us=now,
        expires_at_us=now + 3_600_000_000,
        audit_ids=["audit-1"],
        roles=[("r1", "member")],
        project_id="p1",
        project_name="demo",
        project_domain_id="default",
        project_domain_name="Default",
    )


@pytest.fixture
def repo(tmp_path: Path) -> KeyRepository:
    r = KeyRepository(tmp_path / "keys", max_active_keys=3)
    r.initialize()
    return r


def test_initialize_creates_staged_and_primary(repo: KeyRepository) -> None:
    assert key_files(repo.directory) == [0, 1]
    for index in (0, 1):
        path = repo.directory / str(index)
        Fernet(path.read_bytes())  # a valid key
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(repo.directory.stat().st_mode) == 0o700
    assert not [p for p in repo.directory.iterdir() if p.name.endswith(".tmp")]


def test_initialize_is_idempotent(repo: KeyRepository) -> None:
    before = {i: (repo.directory / str(i)).read_bytes() for i in (0, 1)}
    repo.initialize()
    assert key_files(repo.directory) == [0, 1]
    assert {i: (repo.directory / str(i)).read_bytes() for i in (0, 1)} == before


def test_primary_encrypts(repo: KeyRepository) -> None:
    primary = Fernet((repo.directory / "1").read_bytes())
    staged = Fernet((repo.directory / "0").read_bytes())
    token = repo.fernet().encrypt(b"hello")
    assert primary.decrypt(token) == b"hello"
    with pytest.raises(InvalidToken):
        staged.decrypt(token)


def test_staged_key_already_decrypts(repo: KeyRepository) -> None:
    # Another node may have rotated already and promoted what is staged here.
    staged = Fernet((repo.directory / "0").read_bytes())
    assert repo.fernet().decrypt(staged.encrypt(b"early")) == b"early"


def test_rotate_promotes_staged_key(repo: KeyRepository) -> None:
    staged = (repo.directory / "0").read_bytes()
    assert repo.rotate() == 2
    assert key_files(repo.directory) == [0, 1, 2]
    assert (repo.directory / "2").read_bytes() == staged
    assert (repo.directory / "0").read_bytes() != staged
    token = repo.fernet().encrypt(b"x")
    assert Fernet(staged).decrypt(token) == b"x"


def test_rotation_keeps_previous_primary_valid(repo: KeyRepository) -> None:
    provider = TokenProvider(repo, RevocationList())
    before = provider.issue(token_data())
    repo.rotate()
    after = provider.issue(token_data())
    assert provider.decode(before).user_id == "u1"
    assert provider.decode(after).user_id == "u1"
    # The new token was made with the new primary (key 2), not the old one.
    with pytest.raises(InvalidToken):
        Fernet((repo.directory / "1").read_bytes()).decrypt(after + "=" * (-len(after) % 4))


def test_max_active_keys_drops_the_oldest(repo: KeyRepository) -> None:
    provider = TokenProvider(repo, RevocationList())
    first = provider.issue(token_data())  # made with key 1
    repo.rotate()  # 0, 1, 2
    second = provider.issue(token_data())  # made with key 2
    assert key_files(repo.directory) == [0, 1, 2]
    repo.rotate()  # 0, 2, 3: key 1 is gone
    assert key_files(repo.directory) == [0, 2, 3]
    assert len(key_files(repo.directory)) == repo.max_active_keys
    with pytest.raises(errors.Unauthorized):
        provider.decode(first)
    assert provider.decode(second).user_id == "u1"
    repo.rotate()  # 0, 3, 4: key 2 is gone too
    assert key_files(repo.directory) == [0, 3, 4]
    with pytest.raises(errors.Unauthorized):
        provider.decode(second)


def test_larger_key_window(tmp_path: Path) -> None:
    repo = KeyRepository(tmp_path / "k", max_active_keys=5)
    repo.initialize()
    provider = TokenProvider(repo, RevocationList())
    first = provider.issue(token_data())
    for _ in range(3):
        repo.rotate()
    assert key_files(repo.directory) == [0, 1, 2, 3, 4]
    assert provider.decode(first).user_id == "u1"
    repo.rotate()
    assert key_files(repo.directory) == [0, 2, 3, 4, 5]
    with pytest.raises(errors.Unauthorized):
        provider.decode(first)


def test_two_processes_sharing_the_directory(tmp_path: Path) -> None:
    a = KeyRepository(tmp_path / "k")
    a.initialize()
    b = KeyRepository(tmp_path / "k")
    pa = TokenProvider(a, RevocationList())
    pb = TokenProvider(b, RevocationList())
    assert pb.decode(pa.issue(token_data())).user_id == "u1"
    b.fernet()  # b caches the keys
    a.rotate()
    # b sees a's rotation: it decrypts a token made with the new primary.
    assert pb.decode(pa.issue(token_data())).user_id == "u1"
