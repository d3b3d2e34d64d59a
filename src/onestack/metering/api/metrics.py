"""Metrics, their measures (one metric, named metrics of a resource, batches), the
aggregates API, status and capabilities."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.api import authorize, param
from onestack.common.auth import get_context
from onestack.common.http import empty, json_response
from onestack.metering import models, schemas, series
from onestack.metering.api.helpers import flag, link_next, page, service, valid_body
from onestack.metering.operations import AGG_MAP


async def list_metrics(request: Request) -> Response:
    ctx = get_context(request)
    own = {"created_by_project_id": ctx.project_id, "created_by_user_id": ctx.user_id}
    authorize(request, "list metric", {**own, "resource": {"project_id": ctx.project_id}})
    limit, marker, sort = page(request)
    found = await service(request).metrics.listing(ctx, request.query_params, limit, marker, sort)
    return json_response(found, headers=link_next(request, found, limit))


async def create_metric(request: Request) -> Response:
    ctx = get_context(request)
    authorize(
        request,
        "create metric",
        {"created_by_project_id": ctx.project_id, "created_by_user_id": ctx.user_id},
    )
    spec = await valid_body(request, schemas.MetricCreate)
    view = await service(request).metrics.create(ctx, spec)
    return json_response(view, 201, headers={"Location": f"{request.url.path}/{view['id']}"})


async def _metric(request: Request, rule: str) -> models.Metric:
    """The metric of the path (by id, or a resource's named metric) once ``rule`` allows."""
    ctx = get_context(request)
    svc = service(request)
    if "id" in request.path_params:
        mid = await svc.metrics.named_id(ctx, param(request, "id"), param(request, "name"))
    else:
        mid = param(request, "metric")
    row = await svc.metrics.row(ctx, mid)
    authorize(request, rule, await svc.metrics.target(row))
    return row


async def show_metric(request: Request) -> Response:
    row = await _metric(request, "get metric")
    return json_response(await service(request).metrics.show(get_context(request), row.id))


async def delete_metric(request: Request) -> Response:
    row = await _metric(request, "delete metric")
    await service(request).metrics.delete(get_context(request), row.id)
    return empty()


async def post_measures(request: Request) -> Response:
    row = await _metric(request, "post measures")
    measures = await valid_body(request, schemas.Measures, big=True)
    await service(request).measures.add(row.id, measures)
    return empty(202)


async def get_measures(request: Request) -> Response:
    row = await _metric(request, "get measures")
    svc = service(request)
    policy = await svc.metrics.policy_of(row)
    if flag(request, "refresh"):
        await svc.processor.refresh(row.id, policy)
    body = await svc.measures.rendered(row, policy, request.query_params)
    return Response(body, media_type="application/json")


async def batch_metrics(request: Request) -> Response:
    ctx = get_context(request)
    svc = service(request)

    async def may_post(rows: list[models.Metric]) -> None:
        for target in (await svc.metrics.targets(rows)).values():
            authorize(request, "post measures", target)

    body = await valid_body(request, schemas.MetricsMeasures, big=True)
    await svc.measures.batch_metrics(ctx, body, may_post)
    return empty(202)


async def batch_resources(request: Request) -> Response:
    ctx = get_context(request)
    svc = service(request)

    async def may_post(rows: list[models.Metric]) -> None:
        for target in (await svc.metrics.targets(rows)).values():
            authorize(request, "post measures", target)

    body = await valid_body(request, schemas.ResourcesMeasures, big=True)
    await svc.measures.batch_resources(ctx, body, flag(request, "create_metrics"), may_post)
    return empty(202)


async def aggregates(request: Request) -> Response:
    ctx = get_context(request)
    body = await valid_body(request, schemas.Aggregates)
    if body.by_resources:
        authorize(request, "search resource")
    groupby = sorted(set(request.query_params.getlist("groupby")))
    result = await service(request).aggregates.fetch(
        ctx, body, request.query_params, groupby, flag(request, "details")
    )
    return json_response(result)


async def status(request: Request) -> Response:
    authorize(request, "get status")
    return json_response(await service(request).status(flag(request, "details")))


async def capabilities(_request: Request) -> Response:
    return json_response(
        {
            "aggregation_methods": sorted(series.METHODS),
            "dynamic_aggregation_methods": sorted(AGG_MAP),
        }
    )


M = "/v1/metric"
NAMED = "/v1/resource/{type}/{id}/metric/{name}"
routes = [
    Route(M, list_metrics, methods=["GET"]),
    Route(M, create_metric, methods=["POST"]),
    Route(M + "/{metric}", show_metric, methods=["GET"]),
    Route(M + "/{metric}", delete_metric, methods=["DELETE"]),
    Route(M + "/{metric}/measures", get_measures, methods=["GET"]),
    Route(M + "/{metric}/measures", post_measures, methods=["POST"]),
    Route(NAMED, show_metric, methods=["GET"]),
    Route(NAMED, delete_metric, methods=["DELETE"]),
    Route(NAMED + "/measures", get_measures, methods=["GET"]),
    Route(NAMED + "/measures", post_measures, methods=["POST"]),
    Route("/v1/batch/metrics/measures", batch_metrics, methods=["POST"]),
    Route("/v1/batch/resources/metrics/measures", batch_resources, methods=["POST"]),
    Route("/v1/aggregates", aggregates, methods=["POST"]),
    Route("/v1/status", status, methods=["GET"]),
    Route("/v1/capabilities", capabilities, methods=["GET"]),
]
