"""The Swift v1 API under /object: one ASGI app (``proxy.SwiftProxy``) answers every path;
it does its own authentication (tokens, temp URLs, form POSTs, public ACLs), so every path
is public to the common token check."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute, Mount

from onestack.common.api import Public
from onestack.object.api.proxy import RootPaths, SwiftProxy

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime

PUBLIC = (Public(r"", frozenset({"GET", "HEAD", "PUT", "POST", "DELETE", "COPY", "OPTIONS"})),)


def routes(runtime: Runtime) -> Sequence[BaseRoute]:
    return [Mount("", app=SwiftProxy(runtime))]


def app(runtime: Runtime) -> SwiftProxy:
    return SwiftProxy(runtime)


def info_app(runtime: Runtime) -> RootPaths:
    return RootPaths(runtime, "info")


def healthcheck_app(runtime: Runtime) -> RootPaths:
    return RootPaths(runtime, "healthcheck")
