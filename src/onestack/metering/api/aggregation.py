"""Gnocchi's older aggregation API (``openstack metric measures aggregation``):
``GET /v1/aggregation/metric?metric=ID&...`` across metrics by id, and
``POST /v1/aggregation/resource/{type}/metric/{name}`` across the resources a filter finds,
optionally grouped. Both are written as the operations ``POST /v1/aggregates`` evaluates:
``(aggregate REAGGREGATION (metric (ID AGGREGATION) ...))``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.api import authorize, param
from onestack.common.auth import get_context
from onestack.common.http import json_response, validate
from onestack.metering import errors, schemas
from onestack.metering.api.helpers import service, valid_body


def _operations(request: Request, refs: list[str]) -> str:
    aggregation = request.query_params.get("aggregation") or "mean"
    reaggregation = request.query_params.get("reaggregation") or aggregation
    metrics = " ".join(f"({ref} {aggregation})" for ref in refs)
    series = f"(metric {metrics})"
    resample = request.query_params.get("resample")
    if resample:
        series = f"(resample {aggregation} {resample} {series})"
    return f"(aggregate {reaggregation} {series})"


def _points(measures: Any) -> list[Any]:
    return list(measures.get("measures", {}).get("aggregated", []))


async def by_metrics(request: Request) -> Response:
    ids = request.query_params.getlist("metric")
    if not ids:
        raise errors.InvalidInput(reason="At least one metric is required")
    body = validate(schemas.Aggregates, {"operations": _operations(request, ids)})
    found = await service(request).aggregates.fetch(
        get_context(request), body, request.query_params, [], False
    )
    return json_response(_points(found))


async def by_resources(request: Request) -> Response:
    authorize(request, "search resource")
    search = await valid_body(request, schemas.Search, optional=True)
    query = search.filter or request.query_params.get("filter")
    body = validate(
        schemas.Aggregates,
        {
            "operations": _operations(request, [param(request, "name")]),
            "resource_type": param(request, "type"),
            "search": query or None,
        },
    )
    groupby = sorted(set(request.query_params.getlist("groupby")))
    found = await service(request).aggregates.fetch(
        get_context(request), body, request.query_params, groupby, False
    )
    if not groupby:
        return json_response(_points(found))
    return json_response([{"group": g["group"], "measures": _points(g["measures"])} for g in found])


routes = [
    Route("/v1/aggregation/metric", by_metrics, methods=["GET", "POST"]),
    Route("/v1/aggregation/resource/{type}/metric/{name}", by_resources, methods=["POST"]),
]
