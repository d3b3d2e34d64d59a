"""Stacks: create, list, look up (302 to name/id, as heatclient expects), show, delete,
template, environment, files, outputs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from onestack.common.api import authorize, body
from onestack.common.http import empty, json_response
from onestack.orchestration import stacklist, views
from onestack.orchestration.api.common import base_url, caller, service, stack_of, target
from onestack.orchestration.errors import EntityNotFound
from onestack.orchestration.schemas import StackAction, StackBody, StackCreate

# Paths below a stack name that Heat redirects to the same path below name/id.
SUBPATHS = frozenset({"resources", "events", "template", "environment", "files", "outputs"})


async def create(request: Request) -> Response:
    ctx = caller(request)
    authorize(request, "stacks:create")
    stack = await service(request).create(ctx, await body(request, StackCreate))
    url = views.stack_url(base_url(request), stack)
    # Heat's 201 names the new stack in Location too (heat-tempest-plugin polls it).
    return json_response(
        {"stack": {"id": stack.id, "links": [{"href": url, "rel": "self"}]}},
        201,
        {"Location": url},
    )


async def index(request: Request) -> Response:
    ctx = caller(request)
    authorize(request, "stacks:index")
    q = stacklist.parse(request.query_params)
    if q.global_tenant:
        authorize(request, "stacks:global_index")
    found, count = await service(request).listing(ctx, q)
    base = base_url(request)
    out: dict[str, Any] = {"stacks": [views.stack_summary(base, s) for s in found]}
    if q.limit and len(found) == q.limit:
        # Heat's next link: this query with the last stack as the marker.
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "marker"]
        params.append(("marker", found[-1].id))
        out["links"] = [{"rel": "next", "href": f"{base}/stacks?{urlencode(params)}"}]
    if count is not None:
        out["count"] = count
    return json_response(out)


async def detail(request: Request) -> Response:
    """Heat's ``GET /stacks/detail``: the project's stacks, each as ``stack show`` has it
    (without outputs, as Heat's list)."""
    ctx = caller(request)
    authorize(request, "stacks:detail")
    found, _count = await service(request).listing(ctx, stacklist.ListQuery())
    base = base_url(request)
    return json_response({"stacks": [views.stack_detail(base, s, None) for s in found]})


async def lookup(request: Request) -> Response:
    """``GET /stacks/{name or id}[/{subpath}]``: 302 to ``/stacks/{name}/{id}[/subpath]``."""
    ctx = caller(request)
    stack = await service(request).find(ctx, request.path_params["stack_name"])
    authorize(request, "stacks:lookup", target(stack))
    sub = request.path_params.get("path", "")
    location = views.stack_url(base_url(request), stack) + (f"/{sub}" if sub else "")
    if request.url.query:
        location += f"?{request.url.query}"
    return empty(302, {"Location": location})


async def show_or_lookup(request: Request) -> Response:
    """``/stacks/{a}/{b}``: a sub-path of a stack named ``a`` (redirected), else name/id."""
    if request.path_params["stack_id"] in SUBPATHS:
        request.path_params["path"] = request.path_params["stack_id"]
        return await lookup(request)
    stack = await stack_of(request, "stacks:show")
    resolve = request.query_params.get("resolve_outputs", "true").lower() != "false"
    outputs = await service(request).outputs(stack) if resolve else None
    return json_response({"stack": views.stack_detail(base_url(request), stack, outputs)})


async def delete(request: Request) -> Response:
    stack = await stack_of(request, "stacks:delete")
    if stack.deleted_at is not None:
        raise EntityNotFound(entity="Stack", name=stack.name)
    await service(request).delete(caller(request), stack)
    return empty()


async def delete_by_ref(request: Request) -> Response:
    """``DELETE /stacks/{name or id}``: Heat's lookup, a 302 to ``/stacks/{name}/{id}``
    (heatclient's session follows it with the same DELETE)."""
    ctx = caller(request)
    stack = await service(request).find(ctx, request.path_params["stack_name"])
    if stack.deleted_at is not None:
        raise EntityNotFound(entity="Stack", name=stack.name)
    authorize(request, "stacks:lookup", target(stack))
    return empty(302, {"Location": views.stack_url(base_url(request), stack)})


async def _update(request: Request, stack: Any, patch: bool) -> Response:
    changes = await body(request, StackBody)
    await service(request).update(caller(request), stack, changes, patch)
    return empty(202)


async def update(request: Request) -> Response:
    """``PUT`` (a new template) or ``PATCH`` (``existing``: changes to the current one)."""
    patch = request.method == "PATCH"
    stack = await stack_of(request, "stacks:update_patch" if patch else "stacks:update")
    return await _update(request, stack, patch)


async def update_by_ref(request: Request) -> Response:
    """``PUT``/``PATCH /stacks/{name or id}`` (heatclient updates by what the user typed)."""
    patch = request.method == "PATCH"
    stack = await service(request).find(caller(request), request.path_params["stack_name"])
    authorize(request, "stacks:update_patch" if patch else "stacks:update", target(stack))
    return await _update(request, stack, patch)


async def actions(request: Request) -> Response:
    """``POST .../actions`` with exactly one of Heat's actions: suspend, resume, check,
    cancel_update, cancel_without_rollback."""
    if "stack_id" in request.path_params:
        stack = await stack_of(request, "stacks:action")
    else:  # heatclient posts to /stacks/{name or id}/actions
        stack = await service(request).find(caller(request), request.path_params["stack_name"])
        authorize(request, "stacks:action", target(stack))
    # Heat: a request without a body names no action.
    action = (await body(request, StackAction, optional=True)).action
    ctx = caller(request)
    if action == "check":
        await service(request).check_stack(ctx, stack)
    elif action in ("suspend", "resume"):
        await service(request).suspend_resume(ctx, stack, action.upper())
    else:
        await service(request).cancel_update(ctx, stack, action == "cancel_update")
    return empty(200)


async def template(request: Request) -> Response:
    stack = await stack_of(request, "stacks:template")
    return json_response(stack.template)


async def environment(request: Request) -> Response:
    stack = await stack_of(request, "stacks:environment")
    env: dict[str, Any] = {
        "parameters": {},
        "parameter_defaults": {},
        "resource_registry": {"resources": {}},
        "encrypted_param_names": [],
        "event_sinks": [],
    }
    env.update(stack.environment)
    return json_response(env)


async def files(request: Request) -> Response:
    stack = await stack_of(request, "stacks:files")
    return json_response(stack.files)


async def outputs(request: Request) -> Response:
    stack = await stack_of(request, "stacks:list_outputs")
    found = await service(request).outputs(stack)
    return json_response(
        {
            "outputs": [
                {"output_key": o["output_key"], "description": o["description"]} for o in found
            ]
        }
    )


async def output(request: Request) -> Response:
    stack = await stack_of(request, "stacks:show_output")
    key = request.path_params["output_key"]
    for item in await service(request).outputs(stack):
        if item["output_key"] == key:
            return json_response({"output": item})
    raise EntityNotFound(entity="Output", name=key)
