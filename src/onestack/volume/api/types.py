"""``/types``: volume types, their extra specs and access (``os-volume-type-access``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from onestack.common import errors
from onestack.common.api import allowed, authorize, body, param
from onestack.common.http import json_response, query_bool, validate
from onestack.volume.api.helpers import both, context, dict_param, require_version, svc, views
from onestack.volume.models import DefaultType, VolumeType
from onestack.volume.schemas import (
    DefaultTypeSet,
    ExtraSpecs,
    ExtraSpecValue,
    OneAction,
    ProjectAccess,
    TypeCreate,
    TypeUpdate,
)


def _render(request: Request, t: VolumeType) -> dict[str, Any]:
    ctx = context(request)
    specs = allowed(request, "volume_extension:access_types_extra_specs")
    qos = allowed(request, "volume_extension:access_types_qos_specs_id")
    return views(request, ctx).volume_type(t, specs=specs, qos=qos)


async def index(request: Request) -> Response:
    ctx = context(request)
    authorize(request, "volume_extension:type_get_all")
    q = request.query_params
    # Cinder's is_none_string: "None" in any case asks for public and private types alike.
    raw = q.get("is_public", "none")
    is_public = query_bool(raw) if raw.lower() != "none" else None
    if "is_public" not in q:
        is_public = True if not ctx.is_admin else None
    specs = dict_param(q.get("extra_specs"), "extra_specs")
    rows = await svc(request).types.listing(ctx, is_public, specs)
    return json_response({"volume_types": [_render(request, t) for t in rows]})


async def show(request: Request) -> Response:
    ctx = context(request)
    authorize(request, "volume_extension:type_get")
    ref = param(request, "type_id")
    t = await (
        svc(request).types.default(ctx) if ref == "default" else svc(request).types.get(ctx, ref)
    )
    return json_response({"volume_type": _render(request, t)})


async def create(request: Request) -> Response:
    context(request)
    authorize(request, "volume_extension:type_create")
    req = await body(request, TypeCreate, "volume_type")
    is_public = req.public_access if "public_access" in req.model_fields_set else req.is_public
    t = await svc(request).types.create(
        req.name.strip(), req.description, True if is_public is None else bool(is_public),
        req.extra_specs,
    )  # fmt: skip
    return json_response({"volume_type": views(request, context(request)).volume_type(t)})


async def update(request: Request) -> Response:
    context(request)
    authorize(request, "volume_extension:type_update")
    req = await body(request, TypeUpdate, "volume_type")
    if req.name is None and "description" not in req.model_fields_set and req.is_public is None:
        raise errors.BadRequest("Specify volume type name, description, is_public or a "
                                "combination thereof.")  # fmt: skip
    t = await svc(request).types.update(
        param(request, "type_id"), req.name, req.description, req.is_public,
        set_description="description" in req.model_fields_set,
    )  # fmt: skip
    # Cinder's update answers the type without its access flag and QoS specs id.
    shown = _render(request, t)
    shown.pop("os-volume-type-access:is_public", None)
    shown.pop("qos_specs_id", None)
    return json_response({"volume_type": shown})


async def delete(request: Request) -> Response:
    context(request)
    authorize(request, "volume_extension:type_delete")
    await svc(request).types.delete(param(request, "type_id"))
    return Response(status_code=202)


async def specs_index(request: Request) -> Response:
    ctx = context(request)
    authorize(request, "volume_extension:types_extra_specs:index")
    t = await svc(request).types.get(ctx, param(request, "type_id"))
    return json_response({"extra_specs": dict(t.extra_specs)})


async def specs_create(request: Request) -> Response:
    context(request)
    authorize(request, "volume_extension:types_extra_specs:create")
    req = await body(request, ExtraSpecs)
    specs = {k: str(v) for k, v in req.extra_specs.items()}
    await svc(request).types.set_specs(param(request, "type_id"), specs)
    return json_response({"extra_specs": specs})


async def spec_show(request: Request) -> Response:
    ctx = context(request)
    authorize(request, "volume_extension:types_extra_specs:show")
    t = await svc(request).types.get(ctx, param(request, "type_id"))
    key = param(request, "key")
    if key not in t.extra_specs:
        raise errors.NotFound(f"Volume Type {t.id} has no extra specs with key {key}.")
    return json_response({key: t.extra_specs[key]})


async def spec_update(request: Request) -> Response:
    context(request)
    authorize(request, "volume_extension:types_extra_specs:update")
    key = param(request, "key")
    req = await body(request, ExtraSpecValue, context={"key": key})
    await svc(request).types.set_specs(param(request, "type_id"), {key: req.value})
    return json_response({key: req.value})


async def spec_delete(request: Request) -> Response:
    context(request)
    authorize(request, "volume_extension:types_extra_specs:delete")
    await svc(request).types.delete_spec(param(request, "type_id"), param(request, "key"))
    return Response(status_code=202)


async def access_list(request: Request) -> Response:
    context(request)
    authorize(request, "volume_extension:volume_type_access:get_all_for_type")
    type_id = param(request, "type_id")
    projects = await svc(request).types.access(type_id)
    items = [{"volume_type_id": type_id, "project_id": p} for p in projects]
    return json_response({"volume_type_access": items})


async def type_action(request: Request) -> Response:
    context(request)
    req = await body(request, OneAction)
    allow = {"addProjectAccess": True, "removeProjectAccess": False}.get(req.name)
    if allow is None:
        raise errors.BadRequest(f"There is no such action: {req.name}")
    authorize(request, f"volume_extension:volume_type_access:{req.name}")
    access = validate(ProjectAccess, req.args)  # the action's own member, once it is allowed
    await svc(request).types.set_access(param(request, "type_id"), access.project, allow)
    return Response(status_code=202)


async def default_set(request: Request) -> Response:
    require_version(request, "3.62")
    context(request)
    project = param(request, "project_id_")
    authorize(request, "volume_extension:default_set_or_update", {"project_id": project})
    req = await body(request, DefaultTypeSet)
    row = await svc(request).types.set_project_default(project, req.volume_type)
    return json_response({"default_type": _default(row)})


def _default(row: DefaultType) -> dict[str, str]:
    return {"project_id": row.project_id, "volume_type_id": row.volume_type_id}


async def default_show(request: Request) -> Response:
    require_version(request, "3.62")
    context(request)
    project = param(request, "project_id_")
    authorize(request, "volume_extension:default_get", {"project_id": project})
    (row,) = await svc(request).types.project_defaults(project)
    return json_response({"default_type": _default(row)})


async def default_index(request: Request) -> Response:
    require_version(request, "3.62")
    context(request)
    authorize(request, "volume_extension:default_get_all")
    rows = await svc(request).types.project_defaults(None)
    return json_response({"default_types": [_default(r) for r in rows]})


async def default_unset(request: Request) -> Response:
    require_version(request, "3.62")
    context(request)
    project = param(request, "project_id_")
    authorize(request, "volume_extension:default_unset", {"project_id": project})
    await svc(request).types.unset_project_default(project)
    return Response(status_code=204)


routes = both(
    [
        ("/types", index, ["GET"]),
        ("/types", create, ["POST"]),
        ("/types/{type_id}", show, ["GET"]),
        ("/types/{type_id}", update, ["PUT"]),
        ("/types/{type_id}", delete, ["DELETE"]),
        ("/types/{type_id}/extra_specs", specs_index, ["GET"]),
        ("/types/{type_id}/extra_specs", specs_create, ["POST"]),
        ("/types/{type_id}/extra_specs/{key}", spec_show, ["GET"]),
        ("/types/{type_id}/extra_specs/{key}", spec_update, ["PUT"]),
        ("/types/{type_id}/extra_specs/{key}", spec_delete, ["DELETE"]),
        ("/types/{type_id}/os-volume-type-access", access_list, ["GET"]),
        ("/types/{type_id}/action", type_action, ["POST"]),
        ("/default-types", default_index, ["GET"]),
        ("/default-types/{project_id_}", default_set, ["PUT"]),
        ("/default-types/{project_id_}", default_show, ["GET"]),
        ("/default-types/{project_id_}", default_unset, ["DELETE"]),
    ]
)
