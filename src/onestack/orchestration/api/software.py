"""``/software_configs`` and ``/software_deployments`` (Heat's shapes), and the guest's
signed hook, script and signal URLs (no token: the signature is the credential)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from onestack.common.api import authorize, body, query_int, runtime_of
from onestack.common.api import service as service_of
from onestack.common.http import empty, json_response
from onestack.orchestration.api.common import caller
from onestack.orchestration.schemas import (
    DeploymentSignal,
    SoftwareConfigCreate,
    SoftwareDeploymentCreate,
    SoftwareDeploymentUpdate,
)
from onestack.orchestration.software import (
    SoftwareService,
    config_view,
    deployment_view,
    verify,
)


def _svc(request: Request) -> SoftwareService:
    return service_of(request, SoftwareService)


async def config_index(request: Request) -> Response:
    ctx = caller(request)
    authorize(request, "software_configs:index")
    every = request.query_params.get("tenant_safe", "true").lower() == "false"
    if every:
        authorize(request, "software_configs:global_index")
    rows = await _svc(request).configs(
        ctx, every, query_int(request, "limit"), request.query_params.get("marker")
    )
    return json_response({"software_configs": [config_view(r, detail=False) for r in rows]})


async def config_create(request: Request) -> Response:
    ctx = caller(request)
    authorize(request, "software_configs:create")
    row = await _svc(request).create_config(ctx, await body(request, SoftwareConfigCreate))
    return json_response({"software_config": config_view(row)})


async def config_show(request: Request) -> Response:
    ctx = caller(request)
    authorize(request, "software_configs:show")
    row = await _svc(request).config(ctx, request.path_params["config_id"])
    return json_response({"software_config": config_view(row)})


async def config_delete(request: Request) -> Response:
    ctx = caller(request)
    authorize(request, "software_configs:delete")
    await _svc(request).delete_config(ctx, request.path_params["config_id"])
    return empty()


async def deployment_index(request: Request) -> Response:
    ctx = caller(request)
    authorize(request, "software_deployments:index")
    rows = await _svc(request).deployments(ctx, request.query_params.get("server_id"))
    return json_response({"software_deployments": [deployment_view(r) for r in rows]})


async def deployment_create(request: Request) -> Response:
    ctx = caller(request)
    authorize(request, "software_deployments:create")
    row = await _svc(request).create_deployment(ctx, await body(request, SoftwareDeploymentCreate))
    return json_response({"software_deployment": deployment_view(row)})


async def deployment_show(request: Request) -> Response:
    ctx = caller(request)
    authorize(request, "software_deployments:show")
    row = await _svc(request).deployment(ctx, request.path_params["deployment_id"])
    return json_response({"software_deployment": deployment_view(row)})


async def deployment_update(request: Request) -> Response:
    ctx = caller(request)
    authorize(request, "software_deployments:update")
    row = await _svc(request).update_deployment(
        ctx, request.path_params["deployment_id"], await body(request, SoftwareDeploymentUpdate)
    )
    return json_response({"software_deployment": deployment_view(row)})


async def deployment_delete(request: Request) -> Response:
    ctx = caller(request)
    authorize(request, "software_deployments:delete")
    await _svc(request).delete_deployment(ctx, request.path_params["deployment_id"])
    return empty()


async def deployment_metadata(request: Request) -> Response:
    ctx = caller(request)
    authorize(request, "software_deployments:metadata")
    found = await _svc(request).metadata(ctx, request.path_params["server_id"])
    return json_response({"metadata": found})


# --- the guest's signed URLs --------------------------------------------------------------


async def hook(request: Request) -> Response:
    """The server's deployments in progress: JSON, or ``format=text`` lines
    ``<key> <script URL> <signal URL>`` for the shell hook, the key naming the deployment
    and its derived config (a deployment re-run on update has a new one: it runs again)."""
    stack_id, resource = request.path_params["stack_id"], request.path_params["resource"]
    verify(runtime_of(request), f"hook:{stack_id}:{resource}", request.query_params.get("sig", ""))
    svc = _svc(request)
    server_id = await svc.hook_server(stack_id, resource)
    project_id = request.path_params["project_id"]
    found = await svc.hook_listing(project_id, server_id) if server_id else []
    if request.query_params.get("format") == "text":
        lines = "".join(
            f"{d['id']}.{d['config_id']} {d['script_url']} {d['signal_url']}\n" for d in found
        )
        return PlainTextResponse(lines)
    metadata = await svc.metadata(None, server_id) if server_id else []
    return json_response({"server_id": server_id, "deployments": found, "metadata": metadata})


async def script(request: Request) -> Response:
    dep_id = request.path_params["deployment_id"]
    verify(runtime_of(request), f"deployment:{dep_id}", request.query_params.get("sig", ""))
    return PlainTextResponse(await _svc(request).script(dep_id))


async def signal(request: Request) -> Response:
    dep_id = request.path_params["deployment_id"]
    verify(runtime_of(request), f"deployment:{dep_id}", request.query_params.get("sig", ""))
    outcome = await body(request, DeploymentSignal)
    row = await _svc(request).signal(dep_id, outcome.root)
    return json_response({"software_deployment": deployment_view(row)})
