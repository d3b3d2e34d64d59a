"""Builds the process: the runtime (database, bus, policy), every service, one ASGI app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from onestack import (
    alarming,
    compute,
    identity,
    image,
    metering,
    network,
    orchestration,
    volume,
)
from onestack import object as object_storage
from onestack.common import migrations
from onestack.common.api import build_service_app
from onestack.common.bus import create_bus
from onestack.common.db import Database, startup_lock
from onestack.common.http import JSONResponse, json_response
from onestack.common.middleware import RequestIdMiddleware
from onestack.common.policy import Enforcer
from onestack.common.routing import CandidateRouter
from onestack.common.runtime import ALL_ROLES, Runtime, ServiceSpec
from onestack.config import Settings

# Every service of the cloud, in start order (identity first: the others need its tokens).
SERVICES: tuple[ServiceSpec, ...] = (
    identity.SPEC,
    object_storage.SPEC,
    image.SPEC,
    network.SPEC,
    volume.SPEC,
    compute.SPEC,
    metering.SPEC,
    alarming.SPEC,
    orchestration.SPEC,
)


async def start_runtime(
    settings: Settings,
    services: Sequence[ServiceSpec] = SERVICES,
    roles: frozenset[str] = ALL_ROLES,
) -> Runtime:
    """Open the database, migrate it, start the bus and each service's start hook."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = Database(settings.database_url, settings.database.echo, settings.database.pool_size)
    version_dirs = [s.migrations for s in services if s.migrations is not None]
    bus = create_bus(settings.bus.driver, settings.bus.url)
    await bus.start()
    enforcer = Enforcer([rule for s in services for rule in s.policies], settings.policy.file)
    runtime = Runtime(
        settings=settings, db=db, bus=bus, enforcer=enforcer, services=services, roles=roles
    )
    # Several API processes may start at once on one database: one migrates and bootstraps.
    async with startup_lock(db, settings.data_dir / "startup.lock"):
        await migrations.upgrade(db.engine, version_dirs)
        for spec in services:
            if spec.start is not None:
                await spec.start(runtime)
    return runtime


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
    return RequestIdMiddleware(ServiceRoots(app, roots, direct))
