"""A starlette ``Router`` that tries only the routes whose path pattern matches.

starlette asks every route in turn (a regular expression and a scope copy each) until one
matches the path and method; the identity API's token validation went through seven, a
compute call through the six mounts before ``/compute`` and then its own routes. Which
patterns match a path depends on the path alone, so the candidates are remembered per path
(a bounded cache: paths with ids in them are many) and asked in their order, as before.
Anything the candidates do not answer (no route, a redirect) takes starlette's own walk.
"""

from __future__ import annotations

from typing import Any

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send

CANDIDATES_CACHE_SIZE = 4096


class CandidateRouter(Router):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._candidates: dict[str, tuple[BaseRoute, ...]] = {}
        self._routes_seen = len(self.routes)

    def candidates(self, path: str) -> tuple[BaseRoute, ...]:
        if self._routes_seen != len(self.routes):  # routes added after construction
            self._candidates.clear()
            self._routes_seen = len(self.routes)
        found = self._candidates.get(path)
        if found is None:
            found = tuple(
                r
                for r in self.routes
                # Route and Mount match their pattern against this path or not at all.
                if not isinstance(r, Route | Mount) or r.path_regex.match(path)
            )
            if len(self._candidates) >= CANDIDATES_CACHE_SIZE:
                self._candidates.clear()
            self._candidates[path] = found
        return found

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = self
        partial: BaseRoute | None = None
        partial_scope: Scope = {}
        for route in self.candidates(get_route_path(scope)):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL and partial is None:
                partial, partial_scope = route, child_scope
        if partial is not None:  # e.g. 405: the path matches, the method does not
            scope["route"] = partial
            scope.update(partial_scope)
            await partial.handle(scope, receive, send)
            return
        await super().app(scope, receive, send)
