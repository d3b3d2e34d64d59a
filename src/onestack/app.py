"""Builds the process: the runtime (database, bus, policy), every service, one ASGI app."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from onestack.common import migrations
from onestack.common.api import build_service_app
from onestack.common.bus import create_bus
from onestack.common.db import Database, startup_lock
from onestack.common.http import JSONResponse, json_response
from onestack.common.logging import get_logger
from onestack.common.middleware import RequestIdMiddleware
from onestack.common.policy import Enforcer
from onestack.common.routing import CandidateRouter
from onestack.common.runtime import ALL_ROLES, Listing, Runtime, ServiceSpec
from onestack.config import Settings

log = get_logger(__name__)

# Every service of the cloud, in start order (identity first: the others need its tokens).
# Listed here rather than imported: importing the services' code is most of a start, and
# ``serve`` answers identity while the others import (tests/unit/test_startup_imports.py
# holds each entry to its package's ``SPEC``).
LISTED: tuple[Listing, ...] = (
    Listing("identity", "onestack.identity", "identity", "keystone", "/identity", "/identity"),
    Listing(
        "object", "onestack.object", "object-store", "swift", "/object",
        "/object/v1/AUTH_$(project_id)s",
    ),
    Listing("image", "onestack.image", "image", "glance", "/image", "/image"),
    Listing("network", "onestack.network", "network", "neutron", "/network", "/network"),
    Listing(
        "volume", "onestack.volume", "block-storage", "cinder", "/volume",
        "/volume/v3/$(project_id)s", (("volumev3", "cinderv3"),),
    ),
    Listing("compute", "onestack.compute", "compute", "nova", "/compute", "/compute/v2.1"),
    Listing("metering", "onestack.metering", "metric", "gnocchi", "/metric", "/metric"),
    Listing("alarming", "onestack.alarming", "alarming", "aodh", "/alarming", "/alarming"),
    Listing(
        "orchestration", "onestack.orchestration", "orchestration", "heat", "/orchestration",
        "/orchestration/v1/$(project_id)s",
    ),
    # A web page, not an API: no catalog entry (its empty type).
    Listing("dashboard", "onestack.dashboard", "", "horizon", "/dashboard", "/dashboard"),
)  # fmt: skip


def load_services(listed: Sequence[Listing] = LISTED) -> tuple[ServiceSpec, ...]:
    """Import the listed services' packages: their ``SPEC``s, in the listed order."""
    return tuple(importlib.import_module(entry.module).SPEC for entry in listed)


def __getattr__(name: str) -> Any:
    # ``SERVICES``, every service imported, for whoever needs them all at once.
    if name == "SERVICES":
        return load_services()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _open(settings: Settings, services: Sequence[ServiceSpec], roles: frozenset[str]) -> Runtime:
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = Database(settings.database_url, settings.database.echo, settings.database.pool_size)
    bus = create_bus(settings.bus.driver, settings.bus.url)
    enforcer = Enforcer([rule for s in services for rule in s.policies], settings.policy.file)
    return Runtime(
        settings=settings, db=db, bus=bus, enforcer=enforcer, services=services, roles=roles
    )


async def start_runtime(
    settings: Settings,
    services: Sequence[ServiceSpec] | None = None,
    roles: frozenset[str] = ALL_ROLES,
) -> Runtime:
    """Open the database, migrate it, start the bus and each service's start hook."""
    runtime = _open(settings, load_services() if services is None else services, roles)
    runtime.catalog = tuple(runtime.services)
    await runtime.bus.start()
    await _start(runtime, runtime.services)
    return runtime


async def _start(runtime: Runtime, services: Sequence[ServiceSpec], *, first: bool = False) -> None:
    """Migrate and run the start hooks of ``services`` (beside those started); ``first``: on an
    empty database, only the tables of ``services`` (the others' come with the next call)."""
    dirs = [s.migrations for s in (*runtime.services, *services) if s.migrations is not None]
    dirs += [e.migrations for e in runtime.catalog if e.migrations is not None]
    now = [s.migrations for s in services if s.migrations is not None] if first else None
    started = [s for s in runtime.services if s not in services]
    # Several API processes may start at once on one database: one migrates and bootstraps.
    async with startup_lock(runtime.db, runtime.settings.data_dir / "startup.lock"):
        await migrations.upgrade(runtime.db.engine, list(dict.fromkeys(dirs)), now)
        for spec in services:
            if spec.start is not None:
                await spec.start(runtime)
            started.append(spec)
            runtime.services = tuple(started)


async def start_identity(settings: Settings, roles: frozenset[str] = ALL_ROLES) -> Runtime:
    """The first half of a staged start: every table migrated, identity started (its catalog
    lists every service); ``start_rest`` imports and starts the others."""
    runtime = _open(settings, load_services(LISTED[:1]), roles)
    runtime.catalog = LISTED
    await runtime.bus.start()
    # A first start creates identity's tables only before it answers (#19).
    await _start(runtime, runtime.services, first=True)
    return runtime


async def start_rest(runtime: Runtime) -> None:
    """Import the services but identity (in a thread: the event loop keeps answering), then
    start them in order."""
    rest = await asyncio.to_thread(load_services, LISTED[1:])
    for spec in rest:
        runtime.enforcer.register(spec.policies)
    await _start(runtime, rest)


async def stop_runtime(runtime: Runtime) -> None:
    for spec in reversed(runtime.services):
        if spec.stop is not None:
            await spec.stop(runtime)
    await runtime.close()


def _root(runtime: Runtime) -> Any:
    async def root(request: Request) -> JSONResponse:
        base = runtime.public_url
        return json_response(
            {
                "services": [
                    {
                        "name": s.name,
                        "type": s.catalog_type,
                        "url": f"{base}{s.prefix}",
                    }
                    for s in runtime.services
                ]
            }
        )

    return root


class ServiceRoots:
    """``GET /identity`` answers like ``GET /identity/``: catalog URLs have no trailing slash,
    and a redirect would cost every client's version discovery a round trip.

    A request below the prefix of a service that answers every path itself
    (``ServiceSpec.app``: the object store) goes to that service's app at once, as the
    ``Mount`` would send it (``root_path`` the prefix): Starlette's two middleware, its
    router and the mount wrapped each of the thousands of small object requests a second
    (py-spy, 4 KiB GETs from 16 clients: a fifth of the event loop's time)."""

    def __init__(
        self, app: Starlette, prefixes: set[str], direct: dict[str, ASGIApp] | None = None
    ) -> None:
        self.app = app
        self.prefixes = prefixes
        self.direct = [(f"{prefix}/", prefix, sub) for prefix, sub in (direct or {}).items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path in self.prefixes:
                path += "/"
                scope = {**scope, "path": path, "raw_path": path.encode()}
            for below, prefix, sub in self.direct:
                if path.startswith(below):
                    root = scope.get("root_path", "")
                    scope["app"] = self.app
                    scope.setdefault("app_root_path", root)
                    scope["root_path"] = root + prefix
                    await sub(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def build_app(runtime: Runtime) -> RequestIdMiddleware:
    routes: list[Any] = [Route("/", _root(runtime), methods=["GET"])]
    apps = {s.prefix: build_service_app(s, runtime) for s in runtime.services}
    routes += [Mount(prefix, app=sub) for prefix, sub in apps.items()]
    extra = [
        (path if isinstance(path, str) else path(runtime.settings), factory)
        for s in runtime.services
        for path, factory in s.extra_mounts
    ]
    routes += [Mount(path, app=factory(runtime)) for path, factory in extra]
    app = Starlette()
    app.router = CandidateRouter(routes=routes)
    app.state.runtime = runtime
    app.state.max_body_bytes = runtime.settings.server.max_body_bytes
    # A mount answers at its bare path too (Swift clients ask for ``/info``).
    roots = {s.prefix for s in runtime.services} | {path for path, _ in extra}
    direct = {s.prefix: apps[s.prefix] for s in runtime.services if s.app is not None}
    whole = RequestIdMiddleware(ServiceRoots(app, roots, direct))
    runtime.app = whole
    return whole


class StagedApp:
    """The process's app while a staged start (``start_identity``, then ``start_rest``) goes
    on: identity answers at once; a request for any other service waits until every service
    has started and ``complete`` has been given the whole app (``failed``: a 503)."""

    def __init__(self, early: ASGIApp, prefixes: Sequence[str]) -> None:
        self.early = early
        self.prefixes = tuple(prefixes)
        self.below = tuple(f"{p}/" for p in prefixes)
        self.full: ASGIApp | None = None
        self.done = asyncio.Event()

    def complete(self, full: ASGIApp | None) -> None:
        """Every service started (``full``, the whole app), or the start failed (None)."""
        self.full = full
        self.done.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.full is not None:
            await self.full(scope, receive, send)
            return
        path = scope.get("path", "")
        if path in self.prefixes or path.startswith(self.below):
            await self.early(scope, receive, send)
            return
        await self.done.wait()
        await self.whole()(scope, receive, send)

    def whole(self) -> ASGIApp:
        return self.full or json_response({"error": "the cloud failed to start"}, status=503)


async def start_staged(
    settings: Settings,
    roles: frozenset[str],
    on_started: Callable[[Runtime, ASGIApp], Awaitable[None]],
    listening: Callable[[], Awaitable[None]] | None = None,
) -> tuple[Runtime, StagedApp, asyncio.Task[None]]:
    """Start identity, and an app that serves it; the task starts the rest (once
    ``listening`` returns), completes the app and calls ``on_started`` (or, when a service
    fails to start, fails every waiting request and raises)."""
    runtime = await start_identity(settings, roles)
    staged = StagedApp(build_app(runtime), [s.prefix for s in runtime.services])

    async def finish() -> None:
        try:
            if listening is not None:
                # The importing thread holds the GIL most of the time: the server's own start
                # would wait for it at every step.
                await listening()
            await start_rest(runtime)
            full = build_app(runtime)
        except BaseException:
            staged.complete(None)
            raise
        staged.complete(full)
        await on_started(runtime, full)

    return runtime, staged, asyncio.get_running_loop().create_task(finish(), name="start-rest")
