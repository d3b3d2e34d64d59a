"""Password and secret hashing: bcrypt at Keystone's cost, off the event loop."""

from __future__ import annotations

import asyncio

import bcrypt

# bcrypt reads at most 72 bytes; longer secrets are cut explicitly (bcrypt>=5 refuses them).
_MAX = 72


def _encode(secret: str) -> bytes:
    return secret.encode()[:_MAX]


def hash_password_sync(secret: str, rounds: int) -> str:
    return bcrypt.hashpw(_encode(secret), bcrypt.gensalt(rounds)).decode()


async def hash_password(secret: str, rounds: int) -> str:
    return await asyncio.to_thread(hash_password_sync, secret, rounds)


def _check(secret: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(_encode(secret), hashed.encode())
    except ValueError:
        return False


class PasswordChecker:
    """Verifies secrets; an unknown user costs the same hash as a known one (no timing oracle)."""

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        self._decoy: str | None = None

    async def decoy(self) -> str:
        """A hash of the configured cost, made off the start-up path on first need."""
        if self._decoy is None:
            self._decoy = await hash_password("decoy-password-never-matches", self.rounds)
        return self._decoy

    async def verify(self, secret: str, hashed: str | None) -> bool:
        ok = await asyncio.to_thread(_check, secret, hashed or await self.decoy())
        return ok and hashed is not None
