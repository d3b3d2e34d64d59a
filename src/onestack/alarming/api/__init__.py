"""The Aodh v2 API under /alarming: alarms, their state and history, quotas, capabilities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from onestack.alarming import errors
from onestack.alarming.schemas import (
    ACTION_FIELDS,
    AlarmBody,
    AlarmState,
    ComplexQuery,
    Quotas,
)
from onestack.alarming.service import QUERY_FIELDS, AlarmService
from onestack.alarming.trusts import Trusts
from onestack.common import errors as common_errors
from onestack.common.api import Public, ServiceHelpers, authorize, body, param, runtime_of
from onestack.common.api import service as service_of
from onestack.common.auth import get_context
from onestack.common.context import RequestContext
from onestack.common.http import empty, json_response
from onestack.metering.facade import compile_filter

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime

PUBLIC = (Public(r"^/?$"),)


kit = ServiceHelpers(AlarmService)
service = kit.service


def _target(row: Any) -> dict[str, Any]:
    return {"project_id": row.project_id, "user_id": row.user_id}


async def _alarm_body(request: Request, ctx: RequestContext, old: Any = None) -> AlarmBody:
    """The alarm of the body, checked (against ``old``, the alarm a PUT changes), its new
    ``trust+http(s)://`` actions bound to trusts of the caller (the alarm's old ones are)."""
    alarm = await body(request, AlarmBody, context={"old": old, "admin": ctx.is_admin})
    trusts = service_of(request, Trusts)
    bound = {
        field: await trusts.bind(ctx, getattr(alarm, field))
        for field in ACTION_FIELDS
        if field in alarm.sent
    }
    return alarm.model_copy(update=bound)


async def list_alarms(request: Request) -> Response:
    ctx = authorize(request, "telemetry:get_alarms")
    fields = request.query_params.getlist("q.field")
    ops = request.query_params.getlist("q.op")
    values = request.query_params.getlist("q.value")
    query: dict[str, str] = {}
    all_projects = False
    for i, field in enumerate(fields):
        value = values[i] if i < len(values) else ""
        if (ops[i] if i < len(ops) else "eq") != "eq":
            raise errors.InvalidAlarm(reason=f"Unsupported operator {ops[i]}: only eq")
        if field == "all_projects":
            all_projects = value.lower() in ("true", "1", "yes")
        elif field in QUERY_FIELDS:
            query[field] = value
        else:
            raise errors.InvalidAlarm(reason=f'Unknown argument: "{field}": unrecognized field')
    if all_projects:
        authorize(request, "telemetry:get_alarms_all_projects")
    limit = request.query_params.get("limit")
    found = await service(request).listing(
        ctx,
        query,
        all_projects,
        int(limit) if limit and limit.isdigit() else None,
        request.query_params.get("marker"),
        _sorts(request),
    )
    return json_response(found)


async def create_alarm(request: Request) -> Response:
    ctx = authorize(request, "telemetry:create_alarm")
    alarm = await _alarm_body(request, ctx)
    return json_response(await service(request).create(ctx, alarm), 201)


async def show_alarm(request: Request) -> Response:
    ctx = get_context(request)
    row = await service(request).row(ctx, param(request, "alarm_id"))
    authorize(request, "telemetry:get_alarm", _target(row))
    return json_response(await service(request).show(ctx, row.id))


async def update_alarm(request: Request) -> Response:
    ctx = get_context(request)
    row = await service(request).row(ctx, param(request, "alarm_id"))
    authorize(request, "telemetry:change_alarm", _target(row))
    alarm = await _alarm_body(request, ctx, row)
    return json_response(await service(request).update(ctx, row.id, alarm))


async def delete_alarm(request: Request) -> Response:
    ctx = get_context(request)
    row = await service(request).row(ctx, param(request, "alarm_id"))
    authorize(request, "telemetry:delete_alarm", _target(row))
    await service(request).delete(ctx, row.id)
    return empty()


async def get_state(request: Request) -> Response:
    row = await service(request).row(get_context(request), param(request, "alarm_id"))
    authorize(request, "telemetry:get_alarm_state", _target(row))
    return json_response(row.state)


async def set_state(request: Request) -> Response:
    ctx = get_context(request)
    row = await service(request).row(ctx, param(request, "alarm_id"))
    authorize(request, "telemetry:change_alarm_state", _target(row))
    state = await body(request, AlarmState)
    return json_response(await service(request).set_state(ctx, row.id, state.state))


async def history(request: Request) -> Response:
    ctx = get_context(request)
    alarm_id = param(request, "alarm_id")
    authorize(request, "telemetry:alarm_history")
    limit = request.query_params.get("limit")
    changes = await service(request).history(
        ctx,
        alarm_id,
        int(limit) if limit and limit.isdigit() else None,
        request.query_params.get("marker"),
        _sorts(request),
    )
    return json_response(changes)


def _sorts(request: Request) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for item in request.query_params.getlist("sort"):
        key, _, direction = item.partition(":")
        out.append((key, direction or "asc"))
    return out


def _complex_query(query: ComplexQuery, fields: dict[str, str], kind: str) -> Any:
    """The predicate of a complex query's filter (the metric API's filter language over
    ``fields``), None when it filters nothing."""
    if not query.filter:
        return None
    try:
        return compile_filter(query.filter, fields, kind)
    except common_errors.BadRequest as exc:
        raise errors.InvalidAlarm(reason=exc.message) from None


async def query_alarms(request: Request) -> Response:
    """``POST /v2/query/alarms``: ``{"filter": "<JSON expression>", "limit": N}``."""
    ctx = authorize(request, "telemetry:query_alarm")
    query = await body(request, ComplexQuery)
    fields = {k: "string" for k in (*QUERY_FIELDS, "alarm_id", "description")}
    fields.update(timestamp="datetime", state_timestamp="datetime")
    predicate = _complex_query(query, fields, "alarm")
    found = await service(request).listing(ctx, {}, ctx.is_admin, None, None, [])
    if predicate is not None:
        found = [
            a
            for a in found
            if predicate(
                {
                    **a,
                    "enabled": str(a["enabled"]).lower(),
                    "repeat_actions": str(a["repeat_actions"]).lower(),
                }
            )
        ]
    return json_response(found[: query.limit] if query.limit else found)


HISTORY_FIELDS = {
    **{k: "string" for k in ("alarm_id", "event_id", "type", "detail", "severity")},
    **{k: "string" for k in ("project_id", "user_id", "on_behalf_of")},
    "timestamp": "datetime",
}


async def query_history(request: Request) -> Response:
    """``POST /v2/query/alarms/history`` (``openstack alarm-history search``): the changes
    of every alarm the caller may see that the complex query keeps."""
    ctx = authorize(request, "telemetry:query_alarm_history")
    query = await body(request, ComplexQuery)
    predicate = _complex_query(query, HISTORY_FIELDS, "alarm change")
    return json_response(await service(request).search_history(ctx, predicate, query.limit))


async def capabilities(request: Request) -> Response:
    return json_response(
        {
            "api": {
                "alarms:query:simple": True,
                "alarms:query:complex": True,
                "alarms:history:query:simple": True,
                "alarms:history:query:complex": True,
            },
            "alarm_storage": {"storage:production_ready": True},
        }
    )


async def get_quotas(request: Request) -> Response:
    ctx = get_context(request)
    project = request.query_params.get("project_id") or ctx.project_id or ""
    authorize(request, "telemetry:get_quotas", {"project_id": project})
    return json_response(await service(request).quotas(project))


async def set_quotas(request: Request) -> Response:
    authorize(request, "telemetry:update_quotas")
    quotas = await body(request, Quotas)
    return json_response(await service(request).set_quotas(quotas), 201)


def routes(runtime: Runtime) -> Sequence[BaseRoute]:
    prefix_url = f"{runtime.public_url}/alarming"

    async def versions(_request: Request) -> Response:
        return json_response(
            {
                "versions": {
                    "values": [
                        {
                            "id": "v2",
                            "status": "stable",
                            "updated": "2013-02-13T00:00:00Z",
                            "links": [
                                {"rel": "self", "href": f"{prefix_url}/v2"},
                                {
                                    "rel": "describedby",
                                    "type": "text/html",
                                    "href": "https://docs.openstack.org/aodh/latest/",
                                },
                            ],
                            "media-types": [
                                {
                                    "base": "application/json",
                                    "type": "application/vnd.openstack.telemetry-v2+json",
                                }
                            ],
                        }
                    ]
                }
            }
        )

    alarm = "/v2/alarms/{alarm_id}"
    return [
        Route("/", versions, methods=["GET"]),
        Route("/v2/alarms", list_alarms, methods=["GET"]),
        Route("/v2/alarms", create_alarm, methods=["POST"]),
        Route(alarm, show_alarm, methods=["GET"]),
        Route(alarm, update_alarm, methods=["PUT"]),
        Route(alarm, delete_alarm, methods=["DELETE"]),
        Route(alarm + "/state", get_state, methods=["GET"]),
        Route(alarm + "/state", set_state, methods=["PUT"]),
        Route(alarm + "/history", history, methods=["GET"]),
        Route("/v2/query/alarms", query_alarms, methods=["POST"]),
        Route("/v2/query/alarms/history", query_history, methods=["POST"]),
        Route("/v2/capabilities", capabilities, methods=["GET"]),
        Route("/v2/capabilities/", capabilities, methods=["GET"]),
        Route("/v2/quotas", get_quotas, methods=["GET"]),
        Route("/v2/quotas", set_quotas, methods=["POST"]),
    ]


__all__ = ["PUBLIC", "routes", "runtime_of"]
