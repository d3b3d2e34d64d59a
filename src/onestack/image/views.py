"""Glance v2's JSON shapes of images and members (links relative, as Glance gives them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onestack.image.service.records import ImageRecord, MemberRecord


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
