"""Orchestration tables (Heat's storage): stacks, their resources and events, each a state
machine (``action`` + ``status``) in the database. Only ``orchestration.service`` and the
engine write them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onestack.common.db import Base, UTCDateTime, utcnow


class Stack(Base):
    __tablename__ = "orchestration_stack"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str] = mapped_column(String(255))
    # The creating user's name: Heat's stack_owner, what its ``username`` filter compares.
    username: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # Who the engine acts as when it calls the other services (roles of the creating token).
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    template: Mapped[dict[str, Any]] = mapped_column(JSON)
    environment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    files: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # resolved values
    action: Mapped[str] = mapped_column(String(16))  # CREATE, DELETE, UPDATE, ROLLBACK
    status: Mapped[str] = mapped_column(String(16))  # IN_PROGRESS, COMPLETE, FAILED
    status_reason: Mapped[str] = mapped_column(Text, default="")
    disable_rollback: Mapped[bool] = mapped_column(Boolean, default=True)
    timeout_mins: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tags: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # During an update: the template, environment, files and parameters it replaced (what a
    # rollback restores); None otherwise.
    previous: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # A cancel asked of the engine running the update ("rollback" or "stop"), when that
    # engine runs in another process: it sees the request at its next heartbeat.
    cancel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The engine working on it and when it last said so: a stale heartbeat means the engine
    # died and another (or the restarted one) takes the stack over.
    engine_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # A nested stack's parent (OS::Heat::Stack, a template resource, a group): the parent's
    # engine runs it inline and deletes it with the parent; hidden from plain listings.
    owner_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    # A nested stack's view of the resource that owns it (its metadata, deletion_policy and
    # update_policy, resolved in the parent): what ``resource_facade`` returns. None at the top.
    facade: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    heartbeat: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)


class Resource(Base):
    __tablename__ = "orchestration_resource"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    stack_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("orchestration_stack.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(16), default="INIT")
    status: Mapped[str] = mapped_column(String(16), default="COMPLETE")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    physical_resource_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # resolved
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the plugin's own
    # Heat's rsrc_metadata as the template gives it, resolved when the resource is made (and
    # again when an update changes it); what the resource keeps itself is added on reading.
    rsrc_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    requires: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Event(Base):
    __tablename__ = "orchestration_event"
    # ``seq`` orders events (a marker names an event by its uuid, the order comes from seq).
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(String(36), unique=True)
    stack_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("orchestration_stack.id", ondelete="CASCADE"), index=True
    )
    resource_name: Mapped[str] = mapped_column(String(255))
    resource_type: Mapped[str] = mapped_column(String(255))
    physical_resource_id: Mapped[str] = mapped_column(String(255), default="")
    action: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SoftwareConfig(Base):
    """Heat's software config: immutable once made (a change is a new config)."""

    __tablename__ = "orchestration_software_config"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    group: Mapped[str] = mapped_column(String(255), default="Heat::Ungrouped")
    # {"config", "inputs", "outputs", "options"} as Heat keeps them in one column.
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SoftwareDeployment(Base):
    """A config applied to a server: the guest reads it and signals its outcome back."""

    __tablename__ = "orchestration_software_deployment"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    config_id: Mapped[str] = mapped_column(String(36))
    server_id: Mapped[str] = mapped_column(String(255), index=True)
    input_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    output_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    action: Mapped[str] = mapped_column(String(255), default="INIT")
    status: Mapped[str] = mapped_column(String(255), default="COMPLETE")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Snapshot(Base):
    """A stack's snapshot (Heat's ``snapshot`` table): what the stack was (template,
    environment, parameters, each resource's id and data), for a restore."""

    __tablename__ = "orchestration_snapshot"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    stack_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("orchestration_stack.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EngineService(Base):
    """Heat's ``service`` table: each engine reports here at its heartbeat, what
    ``GET /services`` (``openstack orchestration service list``) shows."""

    __tablename__ = "orchestration_service"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    engine_id: Mapped[str] = mapped_column(String(36), index=True)
    host: Mapped[str] = mapped_column(String(255))
    hostname: Mapped[str] = mapped_column(String(255))
    binary: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(255))
    report_interval: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
