"""Discovery for clients: the v2 JSON schemas, import methods, stores, quota usage."""

from __future__ import annotations

import copy
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.auth import get_context
from onestack.common.http import json_response
from onestack.image.api.helpers import authorize, service
from onestack.image.formats import CONTAINER_FORMATS, DISK_FORMATS
from onestack.image.schemas import MEMBER_STATUSES, STATUSES, VISIBILITIES
from onestack.image.service.data import IMPORT_METHODS

_NULLABLE_STRING = {"type": ["null", "string"]}


def _string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


_READ_ONLY = {"readOnly": True}
# The properties of Glance's image schema (``GET /v2/schemas/image``), as Glance lists them.
IMAGE_PROPERTIES: dict[str, Any] = {
    "id": _string(
        "An identifier for the image",
        pattern="^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}"
        "-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
    ),
    "name": {
        "type": ["null", "string"],
        "description": "Descriptive name for the image",
        "maxLength": 255,
    },
    "status": {
        "type": "string",
        "description": "Status of the image",
        "enum": list(STATUSES),
        **_READ_ONLY,
    },
    "visibility": {
        "type": "string",
        "description": "Scope of image accessibility",
        "enum": list(VISIBILITIES),
    },
    "protected": {
        "type": "boolean",
        "description": "If true, image will not be deletable.",
    },
    "os_hidden": {
        "type": "boolean",
        "description": "If true, image will not appear in default image list response.",
    },
    "checksum": {
        "type": ["null", "string"],
        "description": "md5 hash of image contents.",
        "maxLength": 32,
        **_READ_ONLY,
    },
    "os_hash_algo": {
        "type": ["null", "string"],
        "description": "Algorithm to calculate the os_hash_value",
        "maxLength": 64,
        **_READ_ONLY,
    },
    "os_hash_value": {
        "type": ["null", "string"],
        "description": "Hexdigest of the image contents using the algorithm "
        "specified by the os_hash_algo",
        "maxLength": 128,
        **_READ_ONLY,
    },
    "owner": {
        "type": ["null", "string"],
        "description": "Owner of the image",
        "maxLength": 255,
    },
    "size": {
        "type": ["null", "integer"],
        "description": "Size of image file in bytes",
        **_READ_ONLY,
    },
    "virtual_size": {
        "type": ["null", "integer"],
        "description": "Virtual size of image in bytes",
        **_READ_ONLY,
    },
    "container_format": {
        "type": ["null", "string"],
        "description": "Format of the container",
        "enum": [None, *CONTAINER_FORMATS],
    },
    "disk_format": {
        "type": ["null", "string"],
        "description": "Format of the disk",
        "enum": [None, *DISK_FORMATS],
    },
    "created_at": _string("Date and time of image registration", **_READ_ONLY),
    "updated_at": _string("Date and time of the last image modification", **_READ_ONLY),
    "tags": {
        "type": "array",
        "description": "List of strings related to the image",
        "items": {"type": "string", "maxLength": 255},
    },
    "direct_url": _string("URL to access the image file kept in external store", **_READ_ONLY),
    "min_ram": {
        "type": "integer",
        "description": "Amount of ram (in MB) required to boot image.",
    },
    "min_disk": {
        "type": "integer",
        "description": "Amount of disk space (in GB) required to boot image.",
    },
    "self": _string("An image self url", **_READ_ONLY),
    "file": _string("An image file url", **_READ_ONLY),
    "stores": _string("Store in which image data resides.", **_READ_ONLY),
    "schema": _string("An image schema url", **_READ_ONLY),
    "locations": {
        "type": "array",
        "description": "A set of URLs to access the image file kept in external store",
        "items": {
            "type": "object",
            "properties": {
                "url": {"type": "string", "maxLength": 255},
                "metadata": {"type": "object"},
                "validation_data": {"type": "object"},
            },
            "required": ["url", "metadata"],
        },
    },
    "kernel_id": {
        **_NULLABLE_STRING,
        "description": "ID of image stored in Glance that should be used as the "
        "kernel when booting an AMI-style image.",
        "is_base": False,
    },
    "ramdisk_id": {
        **_NULLABLE_STRING,
        "description": "ID of image stored in Glance that should be used as the "
        "ramdisk when booting an AMI-style image.",
        "is_base": False,
    },
    "instance_uuid": _string(
        "Metadata which can be used to record which instance this image is "
        "associated with. (Informational only, does not create an instance snapshot.)",
        is_base=False,
    ),
    "architecture": _string(
        "Operating system architecture as specified in "
        "https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html",
        is_base=False,
    ),
    "os_distro": _string(
        "Common name of operating system distribution as specified in "
        "https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html",
        is_base=False,
    ),
    "os_version": _string(
        "Operating system version as specified by the distributor.", is_base=False
    ),
}


def image_schema() -> dict[str, Any]:
    return {
        "name": "image",
        "additionalProperties": {"type": "string"},
        "links": [
            {"href": "{self}", "rel": "self"},
            {"href": "{file}", "rel": "enclosure"},
            {"href": "{schema}", "rel": "describedby"},
        ],
        "properties": copy.deepcopy(IMAGE_PROPERTIES),
    }


def images_schema() -> dict[str, Any]:
    return {
        "name": "images",
        "properties": {
            "images": {"type": "array", "items": image_schema()},
            "schema": {"type": "string"},
            "first": {"type": "string"},
            "next": {"type": "string"},
        },
        "links": [
            {"rel": "first", "href": "{first}"},
            {"rel": "next", "href": "{next}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


def member_schema() -> dict[str, Any]:
    return {
        "name": "member",
        "properties": {
            "created_at": {
                "type": "string",
                "description": "Date and time of image member creation",
            },
            "image_id": {"type": "string", "description": "An identifier for the image"},
            "member_id": {
                "type": "string",
                "description": "An identifier for the image member (tenantId)",
            },
            "schema": {"readOnly": True, "type": "string"},
            "status": {
                "type": "string",
                "description": "The status of this image member",
                "enum": list(MEMBER_STATUSES),
            },
            "updated_at": {
                "type": "string",
                "description": "Date and time of last modification of image member",
            },
        },
    }


def members_schema() -> dict[str, Any]:
    return {
        "name": "members",
        "properties": {
            "members": {"type": "array", "items": member_schema()},
            "schema": {"type": "string"},
        },
        "links": [{"rel": "describedby", "href": "{schema}"}],
    }


async def schema_image(request: Request) -> Response:
    get_context(request)
    return json_response(image_schema())


async def schema_images(request: Request) -> Response:
    get_context(request)
    return json_response(images_schema())


async def schema_member(request: Request) -> Response:
    get_context(request)
    return json_response(member_schema())


async def schema_members(request: Request) -> Response:
    get_context(request)
    return json_response(members_schema())


async def import_info(request: Request) -> Response:
    get_context(request)
    return json_response(
        {
            "import-methods": {
                "description": "Import methods available.",
                "type": "array",
                "value": list(IMPORT_METHODS),
            }
        }
    )


async def stores_info(request: Request) -> Response:
    get_context(request)
    store = service(request).store
    return json_response(
        {"stores": [{"id": store.name, "description": store.description, "default": True}]}
    )


async def usage_info(request: Request) -> Response:
    ctx = authorize(request, "get_images", {"project_id": get_context(request).project_id})
    svc = service(request)
    settings = svc.settings
    used = await svc.usage(ctx.project_id)
    count, total, staging = used["count"], used["bytes"], used["receiving"]
    return json_response(
        {
            "usage": {
                "image_size_total": {"limit": settings.quota_bytes, "usage": total},
                "image_count_total": {"limit": settings.quota_images, "usage": count},
                "image_stage_total": {"limit": -1, "usage": 0},
                "image_count_uploading": {"limit": -1, "usage": staging},
            }
        }
    )


routes = [
    Route("/v2/schemas/image", schema_image, methods=["GET"]),
    Route("/v2/schemas/images", schema_images, methods=["GET"]),
    Route("/v2/schemas/member", schema_member, methods=["GET"]),
    Route("/v2/schemas/members", schema_members, methods=["GET"]),
    Route("/v2/info/import", import_info, methods=["GET"]),
    Route("/v2/info/stores", stores_info, methods=["GET"]),
    Route("/v2/info/usage", usage_info, methods=["GET"]),
]
