"""Block storage tables. Only ``volume.service`` writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onestack.common.db import Base, UTCDateTime, utcnow


class Volume(Base):
    __tablename__ = "volume_volume"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32), index=True)
    # The size an ``extending`` volume grows to (a restart finishes the extend).
    target_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    availability_zone: Mapped[str] = mapped_column(String(255))
    volume_type_id: Mapped[str] = mapped_column(String(36), index=True)
    # Cinder's "host@backend#pool"; None until scheduled.
    host: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    bootable: Mapped[bool] = mapped_column(Boolean, default=False)
    readonly: Mapped[bool] = mapped_column(Boolean, default=False)
    multiattach: Mapped[bool] = mapped_column(Boolean, default=False)
    snapshot_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    source_volid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    image_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    meta: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    image_metadata: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    # Where the driver keeps the data (a file path) and in which format.
    provider_location: Mapped[str | None] = mapped_column(Text, nullable=True)
    disk_format: Mapped[str | None] = mapped_column(String(16), nullable=True)
    migration_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # What a volume was before ``backing-up`` (available or in-use), to go back to.
    previous_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class VolumeType(Base):
    __tablename__ = "volume_type"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    extra_specs: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    qos_specs_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VolumeTypeAccess(Base):
    """A project allowed to use a private volume type."""

    __tablename__ = "volume_type_access"
    volume_type_id: Mapped[str] = mapped_column(
        ForeignKey("volume_type.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class Attachment(Base):
    """A volume attached (or being attached) to a server."""

    __tablename__ = "volume_attachment"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(
        ForeignKey("volume_volume.id", ondelete="CASCADE"), index=True
    )
    instance_uuid: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    attached_host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    mountpoint: Mapped[str | None] = mapped_column(String(255), nullable=True)
    attach_mode: Mapped[str] = mapped_column(String(8), default="rw")
    # reserved, attaching, attached, detaching
    attach_status: Mapped[str] = mapped_column(String(16))
    connector: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    attach_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Snapshot(Base):
    __tablename__ = "volume_snapshot"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(String(36), index=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    progress: Mapped[str] = mapped_column(String(8), default="0%")
    meta: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    provider_location: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Quota(Base):
    """A project's own limit of one resource (``volumes``, ``gigabytes_<type>``, ...)."""

    __tablename__ = "volume_quota"
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource: Mapped[str] = mapped_column(String(255), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(Integer)


class Pool(Base):
    """A backend pool as the scheduler tracks it: what the host reports and what is placed."""

    __tablename__ = "volume_pool"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)  # host@backend#pool
    host: Mapped[str] = mapped_column(String(255), index=True)
    backend: Mapped[str] = mapped_column(String(255))
    driver: Mapped[str] = mapped_column(String(64))
    availability_zone: Mapped[str] = mapped_column(String(255))
    total_capacity_gb: Mapped[float] = mapped_column(Float, default=0.0)
    free_capacity_gb: Mapped[float] = mapped_column(Float, default=0.0)
    allocated_capacity_gb: Mapped[int] = mapped_column(Integer, default=0)
    reserved_percentage: Mapped[int] = mapped_column(Integer, default=0)
    max_over_subscription_ratio: Mapped[float] = mapped_column(Float, default=20.0)
    thin: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Message(Base):
    """A user message about an asynchronous failure (``/messages``, 3.3)."""

    __tablename__ = "volume_message"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    request_id: Mapped[str] = mapped_column(String(255))
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_uuid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    event_id: Mapped[str] = mapped_column(String(64))
    message_level: Mapped[str] = mapped_column(String(16), default="ERROR")
    user_message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Transfer(Base):
    """A volume offered to another project: accepted with its id and auth key."""

    __tablename__ = "volume_transfer"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    salt: Mapped[str] = mapped_column(String(32))
    crypt_hash: Mapped[str] = mapped_column(String(64))
    source_project_id: Mapped[str] = mapped_column(String(64), index=True)
    destination_project_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    no_snapshots: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Backup(Base):
    """A copy of a volume's data in the backup store (full, or incremental on a parent)."""

    __tablename__ = "volume_backup"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(String(36), index=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    availability_zone: Mapped[str | None] = mapped_column(String(255), nullable=True)
    container: Mapped[str | None] = mapped_column(String(255), nullable=True)
    parent_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    is_incremental: Mapped[bool] = mapped_column(Boolean, default=False)
    # The volume to restore into while restoring.
    restore_volume_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    location: Mapped[str | None] = mapped_column(Text, nullable=True)
    fail_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    meta: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    data_timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class QosSpecs(Base):
    """Quality of service limits, applied to the volumes of the types associated with them
    (``front-end``: by the hypervisor, QEMU's block throttling)."""

    __tablename__ = "volume_qos_specs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    consumer: Mapped[str] = mapped_column(String(16), default="back-end")
    specs: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DefaultType(Base):
    """A project's own default volume type (3.62), over the configured one."""

    __tablename__ = "volume_default_type"
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    volume_type_id: Mapped[str] = mapped_column(
        ForeignKey("volume_type.id", ondelete="CASCADE"), index=True
    )
