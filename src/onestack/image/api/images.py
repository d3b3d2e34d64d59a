"""Images: list, create, show, JSON-patch update, delete, tags, deactivate/reactivate."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import api, errors
from onestack.common.auth import get_context
from onestack.common.http import check_document, empty, json_response, read_body
from onestack.common.pagination import parse_page_params
from onestack.image import schemas
from onestack.image.api.helpers import authorize, param, service, visible_image
from onestack.image.service import parse_patch
from onestack.image.service.data import IMPORT_METHODS
from onestack.image.service.images import SORT_KEYS
from onestack.image.views import image_view, task_view

PATCH_TYPES = (
    "application/openstack-images-v2.1-json-patch",
    "application/openstack-images-v2.0-json-patch",
)
DEFAULT_LIMIT = 25
DEFAULT_SORT = (("created_at", "desc"),)


def _visibility_rule(request: Request, visibility: str | None, target: dict[str, Any]) -> None:
    if visibility == "public":
        authorize(request, "publicize_image", target)
    elif visibility == "community":
        authorize(request, "communitize_image", target)


async def list_images(request: Request) -> Response:
    ctx = authorize(request, "get_images", {"project_id": get_context(request).project_id})
    query = dict(request.query_params)
    tags = request.query_params.getlist("tag")
    paging = dict(query)
    if "sort" in query:  # Glance's new syntax: sort=name:asc,size
        if "sort_key" in query or "sort_dir" in query:
            raise errors.BadRequest("The 'sort' parameter cannot be used with sort_key/sort_dir.")
        paging["sort_key"] = query["sort"]
    page = parse_page_params(paging, SORT_KEYS, DEFAULT_SORT)
    if page.limit is None:
        page = type(page)(DEFAULT_LIMIT, page.marker, page.sort)
    rows = await service(request).images.listing(ctx, query, tags, page)
    body: dict[str, object] = {
        "images": [image_view(r) for r in rows],
        "schema": "/v2/schemas/images",
    }
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "marker"]
    body["first"] = "/v2/images" + (f"?{urlencode(kept)}" if kept else "")
    if rows and page.limit and len(rows) == page.limit:
        body["next"] = f"/v2/images?{urlencode([*kept, ('marker', rows[-1].id)])}"
    return json_response(body)


async def create_image(request: Request) -> Response:
    ctx = get_context(request)
    req = await api.body(request, schemas.ImageCreate)
    core, props = req.core, req.props
    owner = core.get("owner", ctx.project_id)
    target = {"project_id": owner, "owner": owner, "visibility": core.get("visibility")}
    authorize(request, "add_image", target)
    if "owner" in core and core["owner"] != ctx.project_id and not ctx.is_admin:
        raise errors.Forbidden(f"You are not permitted to create images owned by '{owner}'.")
    _visibility_rule(request, core.get("visibility"), target)
    rec = await service(request).images.create(ctx, core, props)
    headers = {
        "Location": f"/v2/images/{rec.id}",
        "OpenStack-image-import-methods": ",".join(IMPORT_METHODS),
        # Glance with stores listed in /v2/info/stores names them on create too.
        "OpenStack-image-store-ids": service(request).store.name,
    }
    return json_response(image_view(rec), 201, headers)


async def show_image(request: Request) -> Response:
    _ctx, rec = await visible_image(request, "get_image")
    return json_response(image_view(rec))


async def update_image(request: Request) -> Response:
    ctype = request.headers.get("content-type", "").split(";")[0].strip()
    if ctype not in PATCH_TYPES:
        raise errors.UnsupportedMediaType(
            f"Unsupported Content-Type {ctype or '(none)'}: use {PATCH_TYPES[0]}."
        )
    body = await read_body(request)
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise errors.BadRequest("Malformed request body: it is not valid JSON.") from None
    check_document(doc)
    if ctype == PATCH_TYPES[1]:
        doc = _patch_v20(doc)
    ops = parse_patch(doc)
    ctx, rec = await visible_image(request, "modify_image")
    target = rec.policy_target()
    for op in ops:
        if op.attr == "visibility" and op.op != "remove":
            _visibility_rule(request, op.value, target)
        if op.attr == "owner" and op.value != rec.owner and not ctx.is_admin:
            raise errors.Forbidden("Only an admin can change the owner of an image.")
    updated = await service(request).images.update(ctx, rec.id, ops)
    return json_response(image_view(updated))


def _patch_v20(doc: object) -> object:
    """v2.0 patches (``{"replace": "/name", "value": ...}``) in the v2.1 form."""
    if not isinstance(doc, list):
        return doc
    out: list[object] = []
    for item in doc:
        if isinstance(item, dict) and "op" not in item:
            for op in ("add", "replace", "remove"):
                if op in item:
                    converted = {"op": op, "path": item[op]}
                    if "value" in item:
                        converted["value"] = item["value"]
                    item = converted
                    break
        out.append(item)
    return out


async def delete_image(request: Request) -> Response:
    ctx, rec = await visible_image(request, "delete_image")
    await service(request).images.delete(ctx, rec.id)
    return empty()


async def add_tag(request: Request) -> Response:
    ctx, rec = await visible_image(request, "modify_image")
    await service(request).images.add_tag(ctx, rec.id, param(request, "tag"))
    return empty()


async def remove_tag(request: Request) -> Response:
    ctx, rec = await visible_image(request, "modify_image")
    await service(request).images.remove_tag(ctx, rec.id, param(request, "tag"))
    return empty()


async def image_tasks(request: Request) -> Response:
    """The import tasks of an image (v2.12), oldest first."""
    _ctx, rec = await visible_image(request, "get_image")
    tasks = await service(request).image_tasks(rec.id)
    return json_response({"tasks": [task_view(t) for t in tasks]})


async def deactivate(request: Request) -> Response:
    ctx, rec = await visible_image(request, "deactivate")
    await service(request).images.set_active(ctx, rec.id, active=False)
    return empty()


async def reactivate(request: Request) -> Response:
    ctx, rec = await visible_image(request, "reactivate")
    await service(request).images.set_active(ctx, rec.id, active=True)
    return empty()


one = "/v2/images/{image_id}"
routes = [
    Route("/v2/images", list_images, methods=["GET"]),
    Route("/v2/images", create_image, methods=["POST"]),
    Route(one, show_image, methods=["GET"]),
    Route(one, update_image, methods=["PATCH"]),
    Route(one, delete_image, methods=["DELETE"]),
    Route(one + "/tags/{tag}", add_tag, methods=["PUT"]),
    Route(one + "/tags/{tag}", remove_tag, methods=["DELETE"]),
    Route(one + "/tasks", image_tasks, methods=["GET"]),
    Route(one + "/actions/deactivate", deactivate, methods=["POST"]),
    Route(one + "/actions/reactivate", reactivate, methods=["POST"]),
]
