"""The signed-in user's session, sealed (Fernet: encrypted and authenticated) in a cookie:
whichever API process serves the next request reads it, and nothing is kept server-side."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson
from cryptography.fernet import Fernet, InvalidToken

from onestack.config import Settings

SESSION_COOKIE = "onestack_session"
CSRF_COOKIE = "csrftoken"
CSRF_FIELD = "csrfmiddlewaretoken"  # Horizon's (Django's) name; Tempest's dashboard test reads it
CSRF_HEADER = "x-csrftoken"


@dataclass
class Session:
    user_id: str
    user_name: str
    domain_name: str
    project_id: str
    project_name: str
    token: str  # scoped to ``project_id``: every API call
    unscoped: str  # the sign-in token: rescoped when the user switches project
    expires: float  # the token's expiry (epoch seconds): the session ends with it
    roles: list[str]
    region: str
    messages: list[list[str]] = field(default_factory=list)  # [level, text] shown once

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires

    def flash(self, level: str, text: str) -> None:
        self.messages.append([level, text])


class Sealer:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, session: Session) -> str:
        return self._fernet.encrypt(orjson.dumps(asdict(session))).decode()

    def open(self, value: str | None) -> Session | None:
        if not value:
            return None
        try:
            data = orjson.loads(self._fernet.decrypt(value.encode()))
            return Session(**data)
        except (InvalidToken, TypeError, ValueError):
            return None


def session_key(settings: Settings) -> bytes:
    """The configured key, or the one kept beside the data (made once, readable by us only)."""
    if settings.dashboard.secret_key:
        return settings.dashboard.secret_key.encode()
    path: Path = settings.data_dir / "dashboard.key"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    key = Fernet.generate_key()
    # Written whole under a private name, then linked into place: a process starting beside
    # this one reads either no key or the whole key, and the first link wins.
    tmp = path.with_name(f".dashboard.key.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
        out.flush()
        os.fsync(out.fileno())
    try:
        os.link(tmp, path)
    except FileExistsError:
        key = path.read_bytes().strip()
    finally:
        tmp.unlink()
    return key


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)
