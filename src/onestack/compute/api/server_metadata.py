"""Server metadata (``/servers/{id}/metadata``) and tags (``/servers/{id}/tags``, 2.26)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import empty, json_response
from onestack.compute import server_members, states
from onestack.compute.api.helpers import href, param, service, valid_body
from onestack.compute.api.server_lookup import require_version, server_row
from onestack.compute.server_schemas import ServerMetadata, ServerMetadataItem, ServerTags

META_STATES = (states.ACTIVE, states.PAUSED, states.SUSPENDED, states.STOPPED)


async def index(request: Request) -> Response:
    ctx, row = await server_row(request, "server-metadata:index")
    srv = await service(request).servers.get(ctx, row.uuid)
    return json_response({"metadata": srv.metadata})


async def _set(request: Request, rule: str, *, replace: bool) -> Response:
    ctx, row = await server_row(request, rule)
    metadata = (await valid_body(request, ServerMetadata)).metadata
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
    meta = (await valid_body(request, ServerMetadataItem)).meta
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
async def tags_index(request: Request) -> Response:
    require_version(request, 26)
    ctx, row = await server_row(request, "os-server-tags:index")
    return json_response({"tags": await service(request).tags.listing(ctx, row.uuid)})


async def tags_update_all(request: Request) -> Response:
    require_version(request, 26)
    ctx, row = await server_row(request, "os-server-tags:update_all")
    tags = (await valid_body(request, ServerTags)).tags
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
    tag = server_members.tag(param(request, "tag"), "tag")
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
