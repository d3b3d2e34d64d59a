"""What the image service hands out: plain records, never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from onestack.image.models import Image, ImageMember, ImageTask


@dataclass(frozen=True)
class ImageRecord:
    id: str
    name: str | None
    status: str
    visibility: str
    protected: bool
    os_hidden: bool
    owner: str | None
    disk_format: str | None
    container_format: str | None
    size: int | None
    virtual_size: int | None
    checksum: str | None
    os_hash_algo: str | None
    os_hash_value: str | None
    min_disk: int
    min_ram: int
    created_at: datetime
    updated_at: datetime
    store: str | None
    location: str | None
    properties: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    # The caller's project is a member of this image (any member status).
    caller_is_member: bool = False

    @classmethod
    def of(
        cls, row: Image, properties: dict[str, str], tags: list[str], member: bool = False
    ) -> ImageRecord:
        return cls(
            id=row.id,
            name=row.name,
            status=row.status,
            visibility=row.visibility,
            protected=row.protected,
            os_hidden=row.os_hidden,
            owner=row.owner,
            disk_format=row.disk_format,
            container_format=row.container_format,
            size=row.size,
            virtual_size=row.virtual_size,
            checksum=row.checksum,
            os_hash_algo=row.os_hash_algo,
            os_hash_value=row.os_hash_value,
            min_disk=row.min_disk,
            min_ram=row.min_ram,
            created_at=row.created_at,
            updated_at=row.updated_at,
            store=row.store,
            location=row.location,
            properties=dict(properties),
            tags=sorted(tags),
            caller_is_member=member,
        )

    def policy_target(self, member_id: str | None = None) -> dict[str, str | None]:
        """Glance's image target: owner as ``project_id``, visibility, the member asked for."""
        return {
            "project_id": self.owner,
            "owner": self.owner,
            "visibility": self.visibility,
            "member_id": member_id,
        }


@dataclass(frozen=True)
class MemberRecord:
    image_id: str
    member_id: str
    status: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: ImageMember) -> MemberRecord:
        return cls(row.image_id, row.member, row.status, row.created_at, row.updated_at)


@dataclass(frozen=True)
class TaskRecord:
    id: str
    image_id: str | None
    type: str
    status: str
    owner: str | None
    user_id: str | None
    request_id: str | None
    input: dict[str, Any]
    result: dict[str, Any] | None
    message: str
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: ImageTask) -> TaskRecord:
        return cls(
            id=row.id,
            image_id=row.image_id,
            type=row.type,
            status=row.status,
            owner=row.owner,
            user_id=row.user_id,
            request_id=row.request_id,
            input=dict(row.input),
            result=dict(row.result) if row.result is not None else None,
            message=row.message,
            expires_at=row.expires_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
