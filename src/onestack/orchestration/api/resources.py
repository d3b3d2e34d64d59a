"""Resources and events of a stack."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from onestack.common.api import body, query_int
from onestack.common.http import empty, json_response
from onestack.orchestration import views
from onestack.orchestration.api.common import base_url, caller, service, stack_of
from onestack.orchestration.errors import EntityNotFound
from onestack.orchestration.models import Resource
from onestack.orchestration.schemas import SIGNAL, ResourceSignal


def _required_by(rows: list[Resource]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {r.name: [] for r in rows}
    for row in rows:
        for dep in row.requires:
            out.setdefault(dep, []).append(row.name)
    return out


async def index(request: Request) -> Response:
    """``nested_depth``: the resources of nested stacks too, that many levels down, each
    naming its ``parent_resource`` (heatclient's ``--nested-depth``)."""
    stack = await stack_of(request, "resource:index")
    depth = query_int(request, "nested_depth", minimum=0) or 0
    svc = service(request)
    found, kids = await svc.nested_resources(stack, depth)
    base = base_url(request)
    by: dict[str, dict[str, list[str]]] = {}
    out = []
    for owner, row, parent in found:
        if not _matches(request, row):
            continue
        if owner.id not in by:
            by[owner.id] = _required_by([r for o, r, _p in found if o.id == owner.id])
        nested = kids.get(row.physical_resource_id or "")
        out.append(views.resource(
            base, owner, row, by[owner.id].get(row.name, []),
            nested=views.stack_url(base, nested) if nested else None, parent_resource=parent,
        ))  # fmt: skip
    return json_response({"resources": out})


# Heat's resource list filters (each may repeat: any of its values matches).
_FILTERS: dict[str, Callable[[Resource], str | None]] = {
    "type": lambda r: r.type,
    "status": lambda r: r.status,
    "action": lambda r: r.action,
    "name": lambda r: r.name,
    "id": lambda r: r.id,
    "physical_resource_id": lambda r: r.physical_resource_id,
}


def _matches(request: Request, row: Resource) -> bool:
    for key, column in _FILTERS.items():
        wanted = request.query_params.getlist(key)
        if wanted and column(row) not in wanted:
            return False
    return True


async def show(request: Request) -> Response:
    stack = await stack_of(request, "resource:show")
    svc = service(request)
    rows = await svc.resources(stack)
    name = request.path_params["resource_name"]
    for row in rows:
        if row.name == name:
            by = _required_by(rows)
            nested = None
            if row.physical_resource_id and row.physical_resource_id in await svc.child_ids(stack):
                child = await svc.find(caller(request), row.physical_resource_id)
                nested = views.stack_url(base_url(request), child)
            meta = await svc.resource_metadata(stack, row)
            shown = views.resource(base_url(request), stack, row, by[name], True, nested=nested,
                                   metadata=meta)  # fmt: skip
            return json_response({"resource": shown})
    raise EntityNotFound(entity="Resource", name=name)


async def signal(request: Request) -> Response:
    """``POST .../resources/{name}/signal``: with a token the caller may signal (policy
    ``resource:signal``), or with the resource's own secret (a wait handle's token in
    ``X-Auth-Token``, a scaling policy's pre-signed ``alarm_url`` ``signature``) which
    opens this one signal and nothing else."""
    p = request.path_params
    svc = service(request)
    given = request.headers.get("x-auth-token") or request.query_params.get("signature") or ""
    secret = await svc.signal_secret(
        p["project_id"], p["stack_name"], p["stack_id"], p["resource_name"]
    )
    # A signal's body is optional and its content type whatever curl sent; it is bounded and
    # checked as every JSON body is (size, depth, NUL) before the engine stores or walks it.
    details = (await body(request, ResourceSignal, optional=True, reading=SIGNAL)).root
    if secret and given and hmac.compare_digest(secret.encode(), given.encode()):
        stack = await svc.by_id(p["stack_id"])
        assert stack is not None  # it has a secret: it exists
    else:
        stack = await stack_of(request, "resource:signal")
    await svc.signal(stack, p["resource_name"], details)
    return empty(200)


async def metadata(request: Request) -> Response:
    stack = await stack_of(request, "resource:metadata")
    svc = service(request)
    row = await svc.resource(stack, request.path_params["resource_name"])
    return json_response({"metadata": await svc.resource_metadata(stack, row)})


async def events(request: Request) -> Response:
    stack = await stack_of(request, "events:index")
    q = request.query_params
    resource = request.path_params.get("resource_name")
    found = await service(request).events(
        stack, resource, q.get("marker"), query_int(request, "limit", minimum=1),
        q.get("sort_dir", "asc"), q.getlist("resource_action"), q.getlist("resource_status"),
    )  # fmt: skip
    # As Heat: a resource's events are those recorded under its name, the stack's own
    # (named after the stack) included; a name with none is not found.
    if resource is not None and not found:
        raise EntityNotFound(entity="Resource", name=resource)
    base = base_url(request)
    return json_response({"events": [views.event(base, stack, e) for e in found]})


async def event(request: Request) -> Response:
    stack = await stack_of(request, "events:show")
    name = request.path_params["resource_name"]
    for row in await service(request).events(stack, name, None, None, "asc", [], []):
        if row.id == request.path_params["event_id"]:
            return json_response({"event": views.event(base_url(request), stack, row, True)})
    raise EntityNotFound(entity="Event", name=request.path_params["event_id"])
