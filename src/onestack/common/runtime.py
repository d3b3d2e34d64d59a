"""What a running process shares: settings, database, bus, policy, and the services it serves."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp

from onestack.common.auth import TokenValidator
from onestack.common.bus import Bus
from onestack.common.db import Database
from onestack.common.logging import get_logger
from onestack.common.policy import Enforcer, RuleDefault
from onestack.config import Settings

log = get_logger(__name__)


@dataclass(frozen=True)
class ServiceSpec:
    """How a service plugs into the process: its prefix, catalog entry, tables and hooks."""

    name: str  # folder name, e.g. "identity"
    catalog_type: str  # e.g. "identity", "compute"
    catalog_name: str  # e.g. "keystone", "nova"
    prefix: str  # mount point, e.g. "/identity"
    endpoint_path: str  # appended to the public URL in the catalog, e.g. "/identity"
    build_app: Callable[[Runtime], ASGIApp]
    policies: Sequence[RuleDefault] = ()
    migrations: Path | None = None
    start: Callable[[Runtime], Awaitable[None]] | None = None
    stop: Callable[[Runtime], Awaitable[None]] | None = None
    # Apps mounted at their own path on the API port, outside the service's prefix and its
    # token check (e.g. the console proxy, whose credential is the console token). The path
    # is a string or read from the settings.
    extra_mounts: Sequence[
        tuple[str | Callable[[Settings], str], Callable[[Runtime], ASGIApp]]
    ] = ()


class NoValidator:
    """Placeholder until the identity service has started; refuses every token."""

    def validate(self, token: str, request_id: str) -> Any:
        from onestack.common import errors

        raise errors.ServiceUnavailable(reason="the identity service is not running")


# What a process does: serve the REST APIs, and/or carry this host's data plane (agents).
ALL_ROLES = frozenset({"api", "agent"})


@dataclass
class Runtime:
    settings: Settings
    db: Database
    bus: Bus
    enforcer: Enforcer
    services: Sequence[ServiceSpec]
    roles: frozenset[str] = ALL_ROLES
    token_validator: TokenValidator = field(default_factory=NoValidator)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    state: dict[str, Any] = field(default_factory=dict)  # per-service objects, keyed by name

    @property
    def public_url(self) -> str:
        return self.settings.public_url

    def spawn(self, coro: Awaitable[None], name: str) -> None:
        """Run a background task for the life of the process, logging if it dies."""

        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task %s failed", name)

        task = asyncio.get_running_loop().create_task(guarded(), name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.bus.stop()
        await self.db.close()
