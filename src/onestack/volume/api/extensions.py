"""The extension list, and the group APIs this cloud answers as unsupported."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from onestack.common import errors
from onestack.common.http import json_response
from onestack.volume.api.helpers import both, context


async def extensions(request: Request) -> Response:
    context(request)
    names = ["AvailabilityZones", "Hosts", "Quotas", "Types", "TypesManage", "VolumeActions",
             "VolumeImageMetadata", "VolumeTenantAttribute", "VolumeHostAttribute",
             "SchedulerStats", "Services", "UsedLimits", "VolumeTypeAccess"]  # fmt: skip
    items = [
        {
            "name": n,
            "alias": f"os-{n}",
            "description": n,
            "updated": "2024-01-01T00:00:00+00:00",
            "links": [],
        }
        for n in names
    ]
    return json_response({"extensions": items})


async def groups(request: Request) -> Response:
    context(request)
    raise errors.NotFound("Groups and consistency groups are not supported by this cloud.")


routes = both(
    [
        ("/extensions", extensions, ["GET"]),
        ("/groups", groups, ["GET", "POST"]),
        ("/groups/detail", groups, ["GET"]),
        ("/consistencygroups", groups, ["GET", "POST"]),
        ("/consistencygroups/detail", groups, ["GET"]),
    ]
)
