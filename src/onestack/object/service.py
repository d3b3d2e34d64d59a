"""The object service: the store, the settings, and the container and account metadata the
proxy consults on nearly every request, cached as Swift's proxy caches them (this process
forgets its own changes at once; other API processes see them within
``[object] container_info_ttl`` seconds)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from onestack.common.auth import TokenValidator
from onestack.common.context import RequestContext
from onestack.config import ObjectSettings
from onestack.object.drivers.base import AccountInfo, ContainerInfo, ObjectStore

TOKEN_CACHE_SECONDS = 2.0  # as long as identity takes to see a revocation anyway
TOKEN_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Cached:
    info: ContainerInfo | AccountInfo | None
    at: float


class ObjectService:
    def __init__(
        self,
        store: ObjectStore,
        settings: ObjectSettings,
        validator: TokenValidator,
        lock_dir: Path,
    ) -> None:
        self.store = store
        self.lock_dir = lock_dir  # the locks every API process on this host shares
        self.settings = settings
        self.validator = validator
        self.operator_roles = frozenset(
            r.strip() for r in settings.operator_roles.split(",") if r.strip()
        )
        self.reseller_roles = frozenset({"admin", settings.reseller_admin_role})
        self._containers: dict[tuple[str, str], Cached] = {}
        self._accounts: dict[str, Cached] = {}
        self._tokens: dict[str, tuple[RequestContext, float]] = {}

    # --- tokens ------------------------------------------------------------------------
    def context(self, token: str, request_id: str) -> RequestContext:
        """The token's context, validated at most every couple of seconds per token (the
        object hot path serves thousands of requests a second on a few tokens)."""
        now = time.monotonic()
        hit = self._tokens.get(token)
        if hit is not None and now - hit[1] < TOKEN_CACHE_SECONDS:
            ctx = hit[0]
            if ctx.expires_at is None or ctx.expires_at.timestamp() > time.time():
                return ctx
        ctx = self.validator.validate(token, request_id)
        if len(self._tokens) >= TOKEN_CACHE_SIZE:
            self._tokens.clear()
        self._tokens[token] = (ctx, now)
        return ctx

    # --- cached metadata ------------------------------------------------------------------
    async def container(
        self, account: str, container: str, fresh: bool = False
    ) -> ContainerInfo | None:
        key = (account, container)
        hit = self._containers.get(key)
        now = time.monotonic()
        if not fresh and hit is not None and now - hit.at < self.settings.container_info_ttl:
            return hit.info  # type: ignore[return-value]
        info = await self.store.container_info(account, container)
        self._containers[key] = Cached(info, now)
        return info

    def forget_container(self, account: str, container: str) -> None:
        self._containers.pop((account, container), None)

    async def account(self, account: str, fresh: bool = False) -> AccountInfo | None:
        hit = self._accounts.get(account)
        now = time.monotonic()
        if not fresh and hit is not None and now - hit.at < self.settings.container_info_ttl:
            return hit.info  # type: ignore[return-value]
        info = await self.store.account_info(account)
        self._accounts[account] = Cached(info, now)
        return info

    def forget_account(self, account: str) -> None:
        self._accounts.pop(account, None)
