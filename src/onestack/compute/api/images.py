"""Nova's image proxy (``/images``, below microversion 2.36): list, show, delete and metadata of
the image service's images, as the caller sees them there; 404 from 2.36 on, as Nova."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.auth import get_context
from onestack.common.context import RequestContext
from onestack.common.http import empty, json_response
from onestack.common.pagination import next_link
from onestack.compute.api import checks
from onestack.compute.api.helpers import at_least, bookmark, href, param, service, valid_body
from onestack.compute.proxy_schemas import ImageMetadata, ImageMetadataItem
from onestack.image.facade import ImageAPI, ImageRecord

STATUS = {
    "active": "ACTIVE",
    "queued": "SAVING",
    "saving": "SAVING",
    "importing": "SAVING",
    "uploading": "SAVING",
    "deleted": "DELETED",
    "pending_delete": "DELETED",
    "killed": "ERROR",
}
PROGRESS = {"queued": 25, "saving": 50, "active": 100}
METADATA_ITEMS = 128  # Nova's default metadata_items quota


def _image_api(request: Request) -> tuple[RequestContext, ImageAPI]:
    if at_least(request, 36):
        raise errors.NotFound("The resource could not be found.")
    ctx = get_context(request)
    return ctx, service(request).context.image


def _time(value: Any) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _links(request: Request, image_id: str) -> list[dict[str, str]]:
    base = request.app.state.runtime.public_url
    return [
        {"rel": "self", "href": href(request, "images", image_id)},
        {"rel": "bookmark", "href": bookmark(request, "images", image_id)},
        {
            "rel": "alternate",
            "type": "application/vnd.openstack.image",
            "href": f"{base}/image/images/{image_id}",
        },
    ]


def render(request: Request, img: ImageRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": img.id,
        "name": img.name,
        "minRam": img.min_ram or 0,
        "minDisk": img.min_disk or 0,
        "metadata": dict(img.properties),
        "created": _time(img.created_at),
        "updated": _time(img.updated_at),
        "status": STATUS.get(img.status, "UNKNOWN"),
        "progress": PROGRESS.get(img.status, 0),
        "OS-EXT-IMG-SIZE:size": img.size,
        "links": _links(request, img.id),
    }
    server = img.properties.get("instance_uuid")
    if server is not None:
        body["server"] = {
            "id": server,
            "links": [
                {"rel": "self", "href": href(request, "servers", server)},
                {"rel": "bookmark", "href": bookmark(request, "servers", server)},
            ],
        }
    auto = img.properties.get("auto_disk_config")
    if auto is not None:
        body["OS-DCF:diskConfig"] = (
            "AUTO" if auto.lower() in ("1", "true", "yes", "on") else "MANUAL"
        )
    return body


def _filters(request: Request) -> dict[str, str]:
    """Nova's image filters in Glance's terms."""
    q = request.query_params
    out: dict[str, str] = {}
    if "name" in q:
        out["name"] = q["name"]
    if "status" in q:
        out["status"] = q["status"].lower()
    if "server" in q:
        out["instance_uuid"] = q["server"].rsplit("/", 1)[-1]
    if "type" in q:
        out["image_type"] = q["type"]
    if "changes-since" in q:
        out["updated_at"] = f"gte:{q['changes-since']}"
    for nova, glance in (("minRam", "min_ram"), ("minDisk", "min_disk")):
        if nova in q:
            out[glance] = str(checks.query_int(q[nova], nova))
    for key, value in q.items():
        if key.startswith("property-"):
            out[key.removeprefix("property-")] = value
    return out


async def _list(request: Request, detail: bool) -> Response:
    ctx, images = _image_api(request)
    q = request.query_params
    limit = checks.query_int(q["limit"], "limit") if "limit" in q else None
    rows = await images.list_images(ctx, _filters(request), limit, q.get("marker"))
    if detail:
        items = [render(request, r) for r in rows]
    else:
        items = [{"id": r.id, "name": r.name, "links": _links(request, r.id)} for r in rows]
    body: dict[str, Any] = {"images": items}
    if limit is not None and rows and len(rows) == limit:
        path = "images/detail" if detail else "images"
        body["images_links"] = [
            {"rel": "next", "href": next_link(href(request, path), q, rows[-1].id)}
        ]
    return json_response(body)


async def list_images(request: Request) -> Response:
    return await _list(request, detail=False)


async def list_images_detail(request: Request) -> Response:
    return await _list(request, detail=True)


async def show_image(request: Request) -> Response:
    ctx, images = _image_api(request)
    img = await images.get_image(ctx, param(request, "image_id"))
    if img.status in ("deleted", "pending_delete"):
        raise errors.NotFound("Image not found.")
    return json_response({"image": render(request, img)})


async def delete_image(request: Request) -> Response:
    ctx, images = _image_api(request)
    await images.delete_image_as(ctx, param(request, "image_id"))
    return empty(204)


# --- metadata --------------------------------------------------------------------------------
def _check_quota(values: dict[str, str]) -> None:
    if len(values) > METADATA_ITEMS:
        raise errors.Forbidden(f"Quota exceeded for metadata items: {METADATA_ITEMS} allowed.")


async def list_metadata(request: Request) -> Response:
    ctx, images = _image_api(request)
    img = await images.get_image(ctx, param(request, "image_id"))
    return json_response({"metadata": dict(img.properties)})


async def _replace(request: Request, values: dict[str, str], remove: list[str]) -> ImageRecord:
    ctx, images = _image_api(request)
    return await images.set_image_properties(ctx, param(request, "image_id"), values, remove)


async def update_metadata(request: Request) -> Response:
    """POST: merge the given items in."""
    ctx, images = _image_api(request)
    values = (await valid_body(request, ImageMetadata)).metadata
    img = await images.get_image(ctx, param(request, "image_id"))
    _check_quota({**img.properties, **values})
    img = await _replace(request, values, [])
    return json_response({"metadata": dict(img.properties)})


async def replace_metadata(request: Request) -> Response:
    """PUT: the given items become the whole metadata."""
    ctx, images = _image_api(request)
    values = (await valid_body(request, ImageMetadata)).metadata
    _check_quota(values)
    img = await images.get_image(ctx, param(request, "image_id"))
    img = await _replace(request, values, [k for k in img.properties if k not in values])
    return json_response({"metadata": dict(img.properties)})


async def show_meta(request: Request) -> Response:
    ctx, images = _image_api(request)
    img = await images.get_image(ctx, param(request, "image_id"))
    key = param(request, "key")
    if key not in img.properties:
        raise errors.NotFound("Image not found.")
    return json_response({"meta": {key: img.properties[key]}})


async def set_meta(request: Request) -> Response:
    ctx, images = _image_api(request)
    key = param(request, "key")
    meta = (await valid_body(request, ImageMetadataItem)).meta
    if key not in meta:
        raise errors.BadRequest("Request body and URI mismatch")
    if len(meta) > 1:
        raise errors.BadRequest("Request body contains too many items")
    img = await images.get_image(ctx, param(request, "image_id"))
    _check_quota({**img.properties, **meta})
    await _replace(request, meta, [])
    return json_response({"meta": meta})


async def delete_meta(request: Request) -> Response:
    ctx, images = _image_api(request)
    key = param(request, "key")
    img = await images.get_image(ctx, param(request, "image_id"))
    if key not in img.properties:
        raise errors.NotFound(f"Image {img.id} has no metadata item {key}.")
    await _replace(request, {}, [key])
    return empty(204)


ONE = "/images/{image_id}"
routes = [
    Route("/images", list_images, methods=["GET"]),
    Route("/images/detail", list_images_detail, methods=["GET"]),
    Route(ONE, show_image, methods=["GET"]),
    Route(ONE, delete_image, methods=["DELETE"]),
    Route(f"{ONE}/metadata", list_metadata, methods=["GET"]),
    Route(f"{ONE}/metadata", update_metadata, methods=["POST"]),
    Route(f"{ONE}/metadata", replace_metadata, methods=["PUT"]),
    Route(f"{ONE}/metadata/{{key}}", show_meta, methods=["GET"]),
    Route(f"{ONE}/metadata/{{key}}", set_meta, methods=["PUT"]),
    Route(f"{ONE}/metadata/{{key}}", delete_meta, methods=["DELETE"]),
]
