"""The Heat v1 API under /orchestration: version discovery and ``/v1/{project_id}/...``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from onestack.common.api import Public
from onestack.common.http import json_response
from onestack.orchestration.api import (
    lifecycle,
    resource_types,
    resources,
    software,
    stacks,
    templates,
)

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime

_GUEST = r"^/v1/[^/]+/software_deployments/"
PUBLIC = (
    Public(r"^/?$"),
    # The guest's signed URLs: the signature, not a token, is what lets it in.
    Public(_GUEST + r"hook/[^/]+/[^/]+$"),
    Public(_GUEST + r"[^/]+/script$"),
    Public(_GUEST + r"[^/]+/signal$", frozenset({"POST", "PUT"})),
    # The handler checks the resource's own secret, else the token (auth done there).
    Public(r"^/v1/[^/]+/stacks/[^/]+/[^/]+/resources/[^/]+/signal$", frozenset({"POST"})),
)


def _versions(runtime: Runtime) -> Callable[[Request], Awaitable[Response]]:
    prefix_url = f"{runtime.public_url}/orchestration"

    async def versions(_request: Request) -> Response:
        doc: dict[str, Any] = {
            "versions": [
                {
                    "id": "v1.0",
                    "status": "CURRENT",
                    "links": [{"rel": "self", "href": f"{prefix_url}/v1/"}],
                }
            ]
        }
        return json_response(doc, 300)

    return versions


def routes(runtime: Runtime) -> Sequence[BaseRoute]:
    p = "/v1/{project_id}"
    s = p + "/stacks/{stack_name}/{stack_id}"
    r = s + "/resources/{resource_name}"
    t = p + "/template_versions"
    table: list[tuple[str, Any, str]] = [
        (p + "/stacks", stacks.index, "GET"),
        (p + "/stacks", stacks.create, "POST"),
        (p + "/stacks/preview", lifecycle.preview, "POST"),
        (p + "/stacks/detail", stacks.detail, "GET"),
        (p + "/stacks/{stack_name}", stacks.lookup, "GET"),
        (p + "/stacks/{stack_name}", stacks.delete_by_ref, "DELETE"),
        (p + "/stacks/{stack_name}", stacks.update_by_ref, "PUT"),
        (p + "/stacks/{stack_name}", stacks.update_by_ref, "PATCH"),
        (s, stacks.update, "PUT"),
        (s, stacks.update, "PATCH"),
        (s, stacks.show_or_lookup, "GET"),
        (s, stacks.delete, "DELETE"),
        (s + "/template", stacks.template, "GET"),
        (s + "/preview", lifecycle.preview_update, "PUT"),
        (s + "/preview", lifecycle.preview_update, "PATCH"),
        (s + "/abandon", lifecycle.abandon, "DELETE"),
        (s + "/export", lifecycle.export, "GET"),
        (s + "/snapshots", lifecycle.snapshot, "POST"),
        (s + "/snapshots", lifecycle.snapshots, "GET"),
        (s + "/snapshots/{snapshot_id}", lifecycle.show_snapshot, "GET"),
        (s + "/snapshots/{snapshot_id}", lifecycle.delete_snapshot, "DELETE"),
        (s + "/snapshots/{snapshot_id}/restore", lifecycle.restore, "POST"),
        (s + "/actions", stacks.actions, "POST"),
        (p + "/stacks/{stack_name}/actions", stacks.actions, "POST"),
        (s + "/environment", stacks.environment, "GET"),
        (s + "/files", stacks.files, "GET"),
        (s + "/outputs", stacks.outputs, "GET"),
        (s + "/outputs/{output_key}", stacks.output, "GET"),
        (s + "/resources", resources.index, "GET"),
        (r, resources.show, "GET"),
        (r, lifecycle.mark_unhealthy, "PATCH"),
        (r + "/metadata", resources.metadata, "GET"),
        (r + "/signal", resources.signal, "POST"),
        (s + "/events", resources.events, "GET"),
        (r + "/events", resources.events, "GET"),
        (r + "/events/{event_id}", resources.event, "GET"),
        (p + "/validate", templates.validate, "POST"),
        (p + "/resource_types", resource_types.resource_types, "GET"),
        (p + "/resource_types/{type_name}", resource_types.resource_schema, "GET"),
        (p + "/resource_types/{type_name}/template", resource_types.resource_type_template, "GET"),
        (t, templates.template_versions, "GET"),
        (t + "/{template_version}/functions", templates.template_functions, "GET"),
        (p + "/build_info", templates.build_info, "GET"),
        (p + "/services", templates.services, "GET"),
        (p + "/software_configs", software.config_index, "GET"),
        (p + "/software_configs", software.config_create, "POST"),
        (p + "/software_configs/{config_id}", software.config_show, "GET"),
        (p + "/software_configs/{config_id}", software.config_delete, "DELETE"),
        (p + "/software_deployments", software.deployment_index, "GET"),
        (p + "/software_deployments", software.deployment_create, "POST"),
        (p + "/software_deployments/metadata/{server_id}", software.deployment_metadata, "GET"),
        (p + "/software_deployments/hook/{stack_id}/{resource}", software.hook, "GET"),
        (p + "/software_deployments/{deployment_id}/script", software.script, "GET"),
        (p + "/software_deployments/{deployment_id}/signal", software.signal, "POST"),
        (p + "/software_deployments/{deployment_id}/signal", software.signal, "PUT"),
        (p + "/software_deployments/{deployment_id}", software.deployment_show, "GET"),
        (p + "/software_deployments/{deployment_id}", software.deployment_update, "PUT"),
        (p + "/software_deployments/{deployment_id}", software.deployment_delete, "DELETE"),
    ]
    return [Route("/", _versions(runtime), methods=["GET"])] + [
        Route(path, fn, methods=[method]) for path, fn, method in table
    ]
