"""Routes for the identity resources whose handlers are nothing but authorize, validate,
call the service layer and render: services, endpoints, regions, roles, policy blobs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import empty, json_response, read_json, validate
from onestack.identity import schemas
from onestack.identity.api.helpers import (
    authorize,
    filters,
    param,
    require_body_key,
    service,
    views,
)
from onestack.identity.api.views import Views
from onestack.identity.service import IdentityService

Handler = Callable[[Request], Awaitable[Response]]


class Ops(NamedTuple):
    """The service-layer calls of one resource."""

    list: Callable[[dict[str, Any]], Awaitable[Any]]
    create: Callable[[dict[str, Any]], Awaitable[Any]]
    get: Callable[[str], Awaitable[Any]]
    update: Callable[[str, dict[str, Any]], Awaitable[Any]]
    delete: Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Resource:
    kind: str  # "service": body key, rule names (identity:get_service) and {service_id}
    plural: str
    create_schema: type[schemas.OpenBody]
    update_schema: type[schemas.OpenBody]
    ops: Callable[[IdentityService], Ops]
    render: Callable[[Views, Any], dict[str, Any]]
    list_filters: tuple[str, ...] = ()

    def routes(self, create: Handler | None = None) -> list[Route]:
        """The five routes; ``create`` replaces the generic POST where a resource needs more."""
        kind, plural = self.kind, self.plural
        key = f"{kind}_id"

        async def listing(request: Request) -> Response:
            wanted = filters(request, *self.list_filters)
            target = {"target": {"domain_id": wanted.get("domain_id")}}
            authorize(request, f"identity:list_{plural}", target)
            rows = await self.ops(service(request)).list(wanted)
            items = [self.render(views(request), r) for r in rows]
            return json_response(views(request).collection(plural, items, plural))

        async def creating(request: Request) -> Response:
            authorize(request, f"identity:create_{kind}")
            body = validate(self.create_schema, require_body_key(await read_json(request), kind))
            row = await self.ops(service(request)).create(body.changes())
            return json_response({kind: self.render(views(request), row)}, 201)

        async def showing(request: Request) -> Response:
            authorize(request, f"identity:get_{kind}")
            row = await self.ops(service(request)).get(param(request, key))
            return json_response({kind: self.render(views(request), row)})

        async def updating(request: Request) -> Response:
            authorize(request, f"identity:update_{kind}")
            body = validate(self.update_schema, require_body_key(await read_json(request), kind))
            row = await self.ops(service(request)).update(param(request, key), body.changes())
            return json_response({kind: self.render(views(request), row)})

        async def deleting(request: Request) -> Response:
            authorize(request, f"identity:delete_{kind}")
            await self.ops(service(request)).delete(param(request, key))
            return empty()

        one = f"/v3/{plural}/{{{key}}}"
        return [
            Route(f"/v3/{plural}", listing, methods=["GET"]),
            Route(f"/v3/{plural}", create or creating, methods=["POST"]),
            Route(one, showing, methods=["GET"]),
            Route(one, updating, methods=["PATCH"]),
            Route(one, deleting, methods=["DELETE"]),
        ]
