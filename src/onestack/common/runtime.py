"""What a running process shares: settings, database, bus, policy, and the services it serves."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from onestack.common import errors
from onestack.common.api import Public
from onestack.common.auth import TokenValidator
from onestack.common.bus import Bus
from onestack.common.db import Database
from onestack.common.errors import ErrorFormatter
from onestack.common.logging import get_logger
from onestack.common.policy import Enforcer, RuleDefault
from onestack.config import Settings

log = get_logger(__name__)

T = TypeVar("T")


class ServiceNotRunning(errors.ServiceUnavailable):
    """A service asked for another one that this process does not run (yet)."""

    template = "The {name} service is not running in this process."


@dataclass(frozen=True)
class DataPlane:
    """What carries one service's data plane on this host, for the banner and ``status``."""

    driver: str  # e.g. "qemu", "linuxbridge", "fake"
    detail: str = ""  # e.g. the accelerator, "TCG"
    reason: str = ""  # why not the real driver, when a fake one runs
    fake_means: str = ""  # what a fake driver means to a user ("networks carry no packets")


@dataclass(frozen=True)
class ServiceSpec:
    """How a service plugs into the process: its prefix, catalog entry, API, tables and hooks.

    Adding a service is one package with one of these and one line in ``app.LISTED``."""

    name: str  # folder name, e.g. "identity"
    catalog_type: str  # e.g. "identity", "compute"
    catalog_name: str  # e.g. "keystone", "nova"
    prefix: str  # mount point, e.g. "/identity"
    endpoint_path: str  # appended to the public URL in the catalog, e.g. "/identity"
    # The API below the prefix, version documents included; ``common.api.build_service_app``
    # puts the token check and the error body around it.
    routes: Callable[[Runtime], Sequence[BaseRoute]]
    error_body: ErrorFormatter
    public: Sequence[Public] = ()  # paths answered without a token
    # More (type, name) catalog entries at the same endpoint (Cinder: volumev3 beside
    # block-storage).
    catalog_aliases: Sequence[tuple[str, str]] = ()
    www_authenticate: str = ""  # on 401s; ``{url}`` is the service's public root
    # Whether an unscoped token is refused (401): every service but identity, whose token
    # and project-listing routes serve unscoped tokens.
    scoped_tokens: bool = True
    middleware: Sequence[
        Callable[[ASGIApp], ASGIApp]
    ] = ()  # outside the error body, first outermost
    policies: Sequence[RuleDefault] = ()
    migrations: Path | None = None
    start: Callable[[Runtime], Awaitable[None]] | None = None
    stop: Callable[[Runtime], Awaitable[None]] | None = None
    # This host's data plane of the service when its agent runs here (None: no agent).
    data_plane: Callable[[Runtime], DataPlane | None] | None = None
    # Apps mounted at their own path on the API port, outside the service's prefix and its
    # token check (e.g. the console proxy, whose credential is the console token). The path
    # is a string or read from the settings.
    extra_mounts: Sequence[
        tuple[str | Callable[[Settings], str], Callable[[Runtime], ASGIApp]]
    ] = ()
    # The API as one ASGI app that answers every path below the prefix itself (Swift's
    # proxy): used in place of ``routes``, and the process hands it its requests straight
    # from the outermost middleware, past the routers (``app.build_app``).
    app: Callable[[Runtime], ASGIApp] | None = None


@dataclass(frozen=True)
class Listing:
    """What the catalog and ``GET /`` say of a service, known before its package is imported:
    a start serves identity while the other services still import (#19), and the tokens it
    issues meanwhile carry the whole catalog. ``app.LISTED`` holds one per ``ServiceSpec``."""

    name: str
    module: str  # the package whose ``SPEC`` this lists, e.g. "onestack.network"
    catalog_type: str
    catalog_name: str
    prefix: str
    endpoint_path: str
    catalog_aliases: Sequence[tuple[str, str]] = ()

    @property
    def migrations(self) -> Path | None:
        """The package's ``migrations/versions`` (where every service keeps them), if any."""
        package = Path(__file__).resolve().parents[1] / self.module.rsplit(".", 1)[-1]
        versions = package / "migrations" / "versions"
        return versions if versions.is_dir() else None


class NoValidator:
    """Placeholder until the identity service has started; refuses every token."""

    def validate(self, token: str, request_id: str) -> Any:
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
    # The process's whole ASGI app once built (``app.build_app``): the dashboard calls the
    # APIs through it in process, as a client over HTTP would.
    app: Any = None
    # Every service of the process, started or still importing (``services`` holds those
    # started): what the catalog lists. Empty: ``services``.
    catalog: Sequence[Listing | ServiceSpec] = ()
    # What each service offers the others, keyed by the type it is asked for by (a facade
    # Protocol such as ``ImageAPI``, or a service's own class for its handlers).
    _provided: dict[type, Any] = field(default_factory=dict, repr=False)

    def provide(self, kind: type[T], impl: T) -> None:
        """Offer ``impl`` to whoever asks for ``kind`` (a service's start hook does this)."""
        self._provided[kind] = impl

    def service(self, kind: type[T]) -> T:
        """What was provided as ``kind``; ``ServiceNotRunning`` when nothing was."""
        try:
            return cast(T, self._provided[kind])
        except KeyError:
            raise ServiceNotRunning(name=_service_name(kind)) from None

    def optional(self, kind: type[T]) -> T | None:
        """What was provided as ``kind``, or None (for callers that can do without it)."""
        return cast("T | None", self._provided.get(kind))

    def withdraw(self, kind: type) -> None:
        self._provided.pop(kind, None)

    def listed(self) -> Sequence[Listing | ServiceSpec]:
        return self.catalog or self.services

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


def _service_name(kind: type) -> str:
    """``onestack.image.facade.ImageAPI`` -> ``image``: the service package's name."""
    parts = kind.__module__.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "onestack" else kind.__name__
