"""The tasks API: ``POST /v2/tasks`` (import tasks), ``GET /v2/tasks[/{id}]`` and the task
schemas, admin's alone (Glance's ``tasks_api_access``)."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import api, errors
from onestack.common.auth import get_context
from onestack.common.http import json_response
from onestack.image import schemas
from onestack.image.api.helpers import authorize, param, service
from onestack.image.service.records import TaskRecord
from onestack.image.service.task_api import SORT_KEYS, TASK_STATUSES, TASK_TYPES
from onestack.image.views import iso

_UUID = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
# Glance's _TASK_SCHEMA (glance/api/v2/tasks.py).
TASK_PROPERTIES: dict[str, Any] = {
    "id": {"description": "An identifier for the task", "pattern": _UUID, "type": "string"},
    "type": {
        "description": "The type of task represented by this content",
        "enum": list(schemas.TASK_SCHEMA_TYPES),
        "type": "string",
    },
    "status": {
        "description": "The current status of this task",
        "enum": list(TASK_STATUSES),
        "type": "string",
    },
    "input": {
        "description": "The parameters required by task, JSON blob",
        "type": ["null", "object"],
    },
    "result": {"description": "The result of current task, JSON blob", "type": ["null", "object"]},
    "owner": {"description": "An identifier for the owner of this task", "type": "string"},
    "message": {
        "description": "Human-readable informative message only included when appropriate "
        "(usually on failure)",
        "type": "string",
    },
    "image_id": {"description": "Image associated with the task", "type": "string"},
    "request_id": {"description": "Human-readable informative request-id", "type": "string"},
    "user_id": {"description": "User associated with the task", "type": "string"},
    "expires_at": {
        "description": "Datetime when this resource would be subject to removal",
        "type": ["null", "string"],
    },
    "created_at": {"description": "Datetime when this resource was created", "type": "string"},
    "updated_at": {"description": "Datetime when this resource was updated", "type": "string"},
    "self": {"readOnly": True, "type": "string"},
    "schema": {"readOnly": True, "type": "string"},
}


def task_schema() -> dict[str, Any]:
    return {
        "name": "task",
        "properties": copy.deepcopy(TASK_PROPERTIES),
        "additionalProperties": False,
    }


def tasks_schema() -> dict[str, Any]:
    partial = task_schema()
    for key in ("input", "result", "message"):
        del partial["properties"][key]
    return {
        "name": "tasks",
        "properties": {
            "tasks": {"type": "array", "items": partial},
            "first": {"type": "string"},
            "next": {"type": "string"},
            "schema": {"type": "string"},
        },
        "links": [
            {"rel": "first", "href": "{first}"},
            {"rel": "next", "href": "{next}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


def _stub(task: TaskRecord) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": task.id,
        "type": task.type,
        "status": task.status,
        "owner": task.owner,
        "created_at": iso(task.created_at),
        "updated_at": iso(task.updated_at),
        "self": f"/v2/tasks/{task.id}",
        "schema": "/v2/schemas/task",
    }
    if task.expires_at is not None:
        view["expires_at"] = iso(task.expires_at)
    return view


def task_doc(task: TaskRecord) -> dict[str, Any]:
    view = {**_stub(task), "input": task.input, "message": task.message, "result": task.result}
    for key in ("image_id", "request_id", "user_id"):
        if getattr(task, key):
            view[key] = getattr(task, key)
    return view


async def create_task(request: Request) -> Response:
    authorize(request, "tasks_api_access")
    ctx = authorize(request, "add_task")
    body = await api.body(request, schemas.TaskCreate)
    task = await service(request).tasks.create(ctx, body.type, body.input)
    headers = {"Location": f"/v2/tasks/{task.id}"}
    return json_response(task_doc(task), 201, headers)


async def list_tasks(request: Request) -> Response:
    authorize(request, "tasks_api_access")
    ctx = authorize(request, "get_tasks")
    query = request.query_params
    status, task_type = query.get("status"), query.get("type")
    if status and status not in TASK_STATUSES:
        raise errors.BadRequest(f"Invalid status value: {status}")
    if task_type and task_type not in TASK_TYPES:
        raise errors.BadRequest(f"Invalid type value: {task_type}")
    sort_key, sort_dir = query.get("sort_key", "created_at"), query.get("sort_dir", "desc")
    if sort_key not in SORT_KEYS:
        raise errors.BadRequest(f"Invalid sort key: {sort_key}")
    if sort_dir not in ("asc", "desc"):
        raise errors.BadRequest(f"Invalid sort direction: {sort_dir}")
    limit = api.query_int(request, "limit", 25, maximum=1000)
    rows = await service(request).tasks.listing(
        ctx,
        status=status or None,
        task_type=task_type or None,
        sort_key=sort_key,
        sort_dir=sort_dir,
        limit=limit,
        marker=query.get("marker") or None,
    )
    kept = [(k, v) for k, v in query.multi_items() if k != "marker"]
    body: dict[str, Any] = {
        "tasks": [_stub(t) for t in rows],
        "first": "/v2/tasks" + (f"?{urlencode(kept)}" if kept else ""),
        "schema": "/v2/schemas/tasks",
    }
    if rows and limit and len(rows) == limit:
        body["next"] = "/v2/tasks?" + urlencode([*kept, ("marker", rows[-1].id)])
    return json_response(body)


async def show_task(request: Request) -> Response:
    authorize(request, "tasks_api_access")
    ctx = authorize(request, "get_task")
    task = await service(request).tasks.get(ctx, param(request, "task_id"))
    return json_response(task_doc(task))


async def schema_task(request: Request) -> Response:
    get_context(request)
    return json_response(task_schema())


async def schema_tasks(request: Request) -> Response:
    get_context(request)
    return json_response(tasks_schema())


routes = [
    Route("/v2/schemas/task", schema_task, methods=["GET"]),
    Route("/v2/schemas/tasks", schema_tasks, methods=["GET"]),
    Route("/v2/tasks", list_tasks, methods=["GET"]),
    Route("/v2/tasks", create_task, methods=["POST"]),
    Route("/v2/tasks/{task_id}", show_task, methods=["GET"]),
]
