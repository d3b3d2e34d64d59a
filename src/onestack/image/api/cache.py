"""Glance's cache management (``/v2/cache``, image API 2.14): list, queue, delete, clear."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import empty, json_response
from onestack.image.api.helpers import authorize, param, service


async def list_cache(request: Request) -> Response:
    authorize(request, "cache_list")
    return json_response(await service(request).cache.status())


async def queue_image(request: Request) -> Response:
    authorize(request, "cache_image")
    await service(request).cache.queue(param(request, "image_id"))
    return empty(202)


async def delete_image(request: Request) -> Response:
    authorize(request, "cache_delete")
    await service(request).cache.delete(param(request, "image_id"))
    return empty()


async def clear(request: Request) -> Response:
    authorize(request, "cache_delete")
    await service(request).cache.clear(request.headers.get("x-image-cache-clear-target"))
    return empty()


routes = [
    Route("/v2/cache", list_cache, methods=["GET"]),
    Route("/v2/cache", clear, methods=["DELETE"]),
    Route("/v2/cache/{image_id}", queue_image, methods=["PUT"]),
    Route("/v2/cache/{image_id}", delete_image, methods=["DELETE"]),
]
