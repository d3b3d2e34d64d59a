"""Glance v2's JSON shapes of images and members (links relative, as Glance gives them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onestack.image.service.records import ImageRecord, MemberRecord, TaskRecord


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def image_view(rec: ImageRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": rec.id,
        "name": rec.name,
        "status": rec.status,
        "visibility": rec.visibility,
        "protected": rec.protected,
        "os_hidden": rec.os_hidden,
        "checksum": rec.checksum,
        "os_hash_algo": rec.os_hash_algo,
        "os_hash_value": rec.os_hash_value,
        "owner": rec.owner,
        "size": rec.size,
        "min_ram": rec.min_ram,
        "min_disk": rec.min_disk,
        "virtual_size": rec.virtual_size,
        "container_format": rec.container_format,
        "disk_format": rec.disk_format,
        "created_at": iso(rec.created_at),
        "updated_at": iso(rec.updated_at),
        "tags": list(rec.tags),
        "self": f"/v2/images/{rec.id}",
        "file": f"/v2/images/{rec.id}/file",
        "schema": "/v2/schemas/image",
    }
    if rec.location is not None and rec.store is not None:
        # /v2/info/stores is served (Glance's multi-store mode), so, as Glance does there,
        # an image with data names the store(s) holding it.
        body["stores"] = rec.store
    body.update(rec.properties)
    return body


def member_view(rec: MemberRecord) -> dict[str, Any]:
    return {
        "created_at": iso(rec.created_at),
        "image_id": rec.image_id,
        "member_id": rec.member_id,
        "schema": "/v2/schemas/member",
        "status": rec.status,
        "updated_at": iso(rec.updated_at),
    }


def _task_time(when: datetime | None) -> str | None:
    # Glance serializes task times with isoformat() of its naive UTC datetimes.
    return None if when is None else when.strftime("%Y-%m-%dT%H:%M:%S.%f")


def task_view(task: TaskRecord) -> dict[str, Any]:
    """One task of GET /v2/images/{id}/tasks: the fields of Glance's task rows."""
    return {
        "id": task.id,
        "type": task.type,
        "status": task.status,
        "owner": task.owner,
        "expires_at": _task_time(task.expires_at),
        "created_at": _task_time(task.created_at),
        "updated_at": _task_time(task.updated_at),
        "deleted_at": None,
        "deleted": False,
        "image_id": task.image_id,
        "request_id": task.request_id,
        "user_id": task.user_id,
        "input": task.input,
        "result": task.result,
        "message": task.message,
    }
