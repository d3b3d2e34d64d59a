"""``GET /os-migrations`` (with 2.23's type, 2.59's uuid and paging, 2.66's changes-before,
2.80's user and project) and ``GET /servers/{id}/migrations``, which lists a server's live
migrations in progress: one host has none."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import json_response
from onestack.compute import models, views
from onestack.compute.api import checks
from onestack.compute.api.helpers import at_least, authorize, param, service
from onestack.compute.api.server_lookup import require_version
from onestack.compute.api.servers import _time
from onestack.compute.service.migrations import MigrationFilters


def migration_view(request: Request, m: models.Migration) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": m.id,
        "status": m.status,
        "instance_uuid": m.instance_uuid,
        "source_node": m.source_node,
        "dest_node": m.dest_node,
        "source_compute": m.source_compute,
        "dest_compute": m.dest_compute,
        "dest_host": m.dest_host,
        "old_instance_type_id": m.old_instance_type_id,
        "new_instance_type_id": m.new_instance_type_id,
        "created_at": views.usg(m.created_at),
        "updated_at": views.usg(m.updated_at),
    }
    if at_least(request, 23):
        out["migration_type"] = m.migration_type
    if at_least(request, 59):
        out["uuid"] = m.uuid
    if at_least(request, 80):
        out["user_id"] = m.user_id
        out["project_id"] = m.project_id
    return out


def _filters(request: Request) -> MigrationFilters:
    q = request.query_params
    f = MigrationFilters(
        status=q.get("status") or None,
        host=q.get("host") or None,
        source_compute=q.get("source_compute") or None,
        instance_uuid=q.get("instance_uuid") or None,
        migration_type=q.get("migration_type") or None,
    )
    if at_least(request, 59) and q.get("changes-since"):
        f.changes_since = _time(q["changes-since"], "changes-since")
    if at_least(request, 66) and q.get("changes-before"):
        f.changes_before = _time(q["changes-before"], "changes-before")
        if f.changes_since and f.changes_before < f.changes_since:
            raise errors.BadRequest(
                "The value of changes-since must be less than or equal to changes-before."
            )
    if at_least(request, 80):
        f.user_id = q.get("user_id") or None
        f.project_id = q.get("project_id") or None
    return f


async def list_migrations(request: Request) -> Response:
    authorize(request, "os-migrations:index")
    q = request.query_params
    limit = marker = None
    if at_least(request, 59):
        limit = checks.query_int(q["limit"], "limit") if q.get("limit") else None
        marker = q.get("marker") or None
    rows = await service(request).migrations.listing(_filters(request), limit=limit, marker=marker)
    body: dict[str, Any] = {"migrations": [migration_view(request, m) for m in rows]}
    if at_least(request, 59) and limit is not None and rows and len(rows) == limit:
        base = str(request.url.replace(query="")).rstrip("/")
        body["migrations_links"] = [
            {"rel": "next", "href": f"{base}?limit={limit}&marker={rows[-1].uuid}"}
        ]
    return json_response(body)


async def server_migrations(request: Request) -> Response:
    require_version(request, 23)
    ctx = authorize(request, "servers:migrations:index")
    await service(request).servers.visible_row(ctx, param(request, "server_id"))
    return json_response({"migrations": []})


async def server_migration(request: Request) -> Response:
    require_version(request, 23)
    ctx = authorize(request, "servers:migrations:show")
    uuid = param(request, "server_id")
    await service(request).servers.visible_row(ctx, uuid)
    raise errors.NotFound(
        f"In-progress live migration {param(request, 'migration_id')} is not found for "
        f"server {uuid}."
    )


routes = [
    Route("/os-migrations", list_migrations, methods=["GET"]),
    Route("/servers/{server_id}/migrations", server_migrations, methods=["GET"]),
    Route("/servers/{server_id}/migrations/{migration_id}", server_migration, methods=["GET"]),
]
