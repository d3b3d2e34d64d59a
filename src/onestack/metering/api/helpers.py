"""What the metering handlers share: the service, bodies (``valid_body``), paging and policy
targets."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from onestack.common import errors as common_errors
from onestack.common.api import ServiceHelpers, body, runtime_of
from onestack.common.http import JsonReading, M, query_bool
from onestack.metering import errors, models
from onestack.metering.service import MeteringService

MAX_LIMIT = 1000


kit = ServiceHelpers(MeteringService)
service = kit.service


# Gnocchi's words for a body that is no JSON document; it stores no NUL-bearing text column.
GNOCCHI_JSON = JsonReading(
    empty=lambda: errors.InvalidInput(reason="a JSON body is required"),
    malformed=lambda: errors.InvalidInput(reason="Unable to decode body: it is not valid JSON"),
    refuse_nul=False,
    blank_is_empty=True,
)


async def valid_body(
    request: Request,
    model: type[M],
    *,
    context: dict[str, Any] | None = None,
    optional: bool = False,
    big: bool = False,
) -> M:
    """The body checked as ``model`` (``metering.schemas``) through ``common.api.body``, in
    Gnocchi's words. ``optional``: no body is checked as None; ``big``: measures batches up
    to ``[metering] max_measures_body``, not walked node by node (their parser checks them)."""
    limit = runtime_of(request).settings.metering.max_measures_body if big else None
    return await body(
        request,
        model,
        context=context,
        reading=GNOCCHI_JSON,
        optional=optional,
        limit=limit,
        checked=not big,
    )


def flag(request: Request, name: str) -> bool:
    try:
        return bool(query_bool(request.query_params.get(name, "false")))
    except common_errors.BadRequest:
        raise errors.InvalidInput(reason=f"{name} must be a boolean") from None


def page(request: Request) -> tuple[int | None, str | None, list[tuple[str, str]]]:
    """``limit``, ``marker`` and the ``sort=key:dir`` list (Gnocchi's paging)."""
    raw = request.query_params.get("limit")
    limit: int | None = None
    if raw:
        try:
            limit = int(raw)
        except ValueError:
            raise errors.InvalidInput(reason=f"Invalid limit {raw!r}") from None
        if limit <= 0:
            raise errors.InvalidInput(reason="limit must be a positive integer")
        limit = min(limit, MAX_LIMIT)
    sort: list[tuple[str, str]] = []
    for item in request.query_params.getlist("sort"):
        key, _, direction = item.partition(":")
        direction = direction or "asc"
        if direction.split("-")[0] not in ("asc", "desc"):
            raise errors.InvalidInput(reason=f"Invalid sort direction {direction!r}")
        sort.append((key, direction))
    return limit, request.query_params.get("marker") or None, sort


def link_next(request: Request, items: list[dict[str, Any]], limit: int | None) -> dict[str, str]:
    """``Link: <...marker=LAST>; rel="next"`` when a full page came back."""
    count = limit or MAX_LIMIT
    if not items or len(items) < count:
        return {}
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("marker", "limit")]
    params += [
        ("limit", str(count)),
        ("marker", str(items[-1]["id"] if "id" in items[-1] else items[-1]["name"])),
    ]
    url = str(request.url.replace(query=urlencode(params)))
    return {"Link": f'<{url}>; rel="next"'}


def resource_target(row: models.Resource) -> dict[str, Any]:
    user, _, project = row.creator.partition(":")
    return {
        "id": row.id,
        "project_id": row.project_id,
        "user_id": row.user_id,
        "creator": row.creator,
        "created_by_user_id": user,
        "created_by_project_id": project or None,
    }
