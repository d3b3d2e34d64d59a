"""Server metadata (``/servers/{id}/metadata``) and tags (``/servers/{id}/tags``, 2.26)."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import empty, json_response
from onestack.compute import states
from onestack.compute.api.helpers import body_of, href, param, service
from onestack.compute.api.server_lookup import require_version, server_row
from onestack.compute.server_members import METADATA_MAX_ITEMS
from onestack.compute.validation import invalid

# Nova's metadata keys: 1-255 of these characters; values strings of at most 255.
_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")
META_STATES = (states.ACTIVE, states.PAUSED, states.SUSPENDED, states.STOPPED)


def _metadata(value: Any, field: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise invalid(field, f"{value!r} is not of type 'object'")
    if len(value) > METADATA_MAX_ITEMS:
        raise invalid(field, f"more than {METADATA_MAX_ITEMS} properties")
    for key, item in value.items():
        if not _KEY.match(key):
            raise invalid(field, f"Additional properties are not allowed ({key!r} was unexpected)")
        if not isinstance(item, str):
            raise invalid(f"{field}.{key}", f"{item!r} is not of type 'string'")
        if len(item) > 255:
            raise invalid(f"{field}.{key}", f"{item!r} is too long")
    return dict(value)


async def index(request: Request) -> Response:
    ctx, row = await server_row(request, "server-metadata:index")
    srv = await service(request).servers.get(ctx, row.uuid)
    return json_response({"metadata": srv.metadata})


async def _set(request: Request, rule: str, *, replace: bool) -> Response:
    ctx, row = await server_row(request, rule)
    metadata = _metadata(await body_of(request, "metadata"), "metadata")
    svc = service(request).servers
    await svc.check_state(ctx, row.uuid, "update metadata", META_STATES)
    final = await svc.set_metadata(ctx, row.uuid, metadata, replace=replace)
    return json_response({"metadata": final})


async def create(request: Request) -> Response:
    return await _set(request, "server-metadata:create", replace=False)


async def update_all(request: Request) -> Response:
    return await _set(request, "server-metadata:update_all", replace=True)


async def show(request: Request) -> Response:
    ctx, row = await server_row(request, "server-metadata:show")
    key = param(request, "key")
    srv = await service(request).servers.get(ctx, row.uuid)
    if key not in srv.metadata:
        raise errors.NotFound("Metadata item was not found")
    return json_response({"meta": {key: srv.metadata[key]}})


async def update(request: Request) -> Response:
    ctx, row = await server_row(request, "server-metadata:update")
    key = param(request, "key")
    meta = _metadata(await body_of(request, "meta"), "meta")
    if len(meta) > 1:
        raise errors.BadRequest("Request body contains too many items")
    if key not in meta:
        raise errors.BadRequest("Request body and URI mismatch")
    svc = service(request).servers
    await svc.check_state(ctx, row.uuid, "update metadata", META_STATES)
    await svc.set_metadata(ctx, row.uuid, meta)
    return json_response({"meta": meta})


async def delete(request: Request) -> Response:
    ctx, row = await server_row(request, "server-metadata:delete")
    svc = service(request).servers
    await svc.check_state(ctx, row.uuid, "delete metadata", META_STATES)
    await svc.delete_metadata(ctx, row.uuid, param(request, "key"))
    return empty(204)


# -- tags ------------------------------------------------------------------------------------
def _tag(value: Any, field: str = "tags") -> str:
    if not isinstance(value, str):
        raise invalid(field, f"{value!r} is not of type 'string'")
    if not value:
        raise invalid(field, f"{value!r} is too short")
    if len(value) > 60:
        raise invalid(field, f"{value!r} is too long")
    if "/" in value or "," in value:
        raise invalid(field, f"{value!r} does not match '^[^,/]*$'")
    return value


async def tags_index(request: Request) -> Response:
    require_version(request, 26)
    ctx, row = await server_row(request, "os-server-tags:index")
    return json_response({"tags": await service(request).tags.listing(ctx, row.uuid)})


async def tags_update_all(request: Request) -> Response:
    require_version(request, 26)
    ctx, row = await server_row(request, "os-server-tags:update_all")
    value = await body_of(request, "tags")
    if not isinstance(value, list):
        raise invalid("tags", f"{value!r} is not of type 'array'")
    tags = [_tag(t) for t in value]
    return json_response({"tags": await service(request).tags.replace(ctx, row.uuid, tags)})


async def tags_delete_all(request: Request) -> Response:
    require_version(request, 26)
    ctx, row = await server_row(request, "os-server-tags:delete_all")
    await service(request).tags.clear(ctx, row.uuid)
    return empty(204)


async def tag_show(request: Request) -> Response:
    require_version(request, 26)
    ctx, row = await server_row(request, "os-server-tags:show")
    tag = param(request, "tag")
    if not await service(request).tags.has(ctx, row.uuid, tag):
        raise errors.NotFound(f"Instance {row.uuid} has no tag '{tag}'")
    return empty(204)


async def tag_update(request: Request) -> Response:
    require_version(request, 26)
    ctx, row = await server_row(request, "os-server-tags:update")
    tag = _tag(param(request, "tag"), "tag")
    added = await service(request).tags.add(ctx, row.uuid, tag)
    location = {"Location": href(request, "servers", row.uuid, "tags", tag)}
    return empty(201 if added else 204, location)


async def tag_delete(request: Request) -> Response:
    require_version(request, 26)
    ctx, row = await server_row(request, "os-server-tags:delete")
    await service(request).tags.remove(ctx, row.uuid, param(request, "tag"))
    return empty(204)


routes = [
    Route("/servers/{server_id}/metadata", index, methods=["GET"]),
    Route("/servers/{server_id}/metadata", create, methods=["POST"]),
    Route("/servers/{server_id}/metadata", update_all, methods=["PUT"]),
    Route("/servers/{server_id}/metadata/{key}", show, methods=["GET"]),
    Route("/servers/{server_id}/metadata/{key}", update, methods=["PUT"]),
    Route("/servers/{server_id}/metadata/{key}", delete, methods=["DELETE"]),
    Route("/servers/{server_id}/tags", tags_index, methods=["GET"]),
    Route("/servers/{server_id}/tags", tags_update_all, methods=["PUT"]),
    Route("/servers/{server_id}/tags", tags_delete_all, methods=["DELETE"]),
    Route("/servers/{server_id}/tags/{tag}", tag_show, methods=["GET"]),
    Route("/servers/{server_id}/tags/{tag}", tag_update, methods=["PUT"]),
    Route("/servers/{server_id}/tags/{tag}", tag_delete, methods=["DELETE"]),
]
