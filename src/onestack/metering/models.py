"""Metering tables (Gnocchi's indexer). Only ``metering.service`` writes them; the measures
themselves live in the time-series store (``drivers``), not here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onestack.common.db import Base, UTCDateTime, utcnow


class ArchivePolicy(Base):
    __tablename__ = "metering_archive_policy"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    back_window: Mapped[int] = mapped_column(Integer, default=0)
    # [{"granularity": ns, "points": n}], finest first
    definition: Mapped[list[dict[str, int]]] = mapped_column(JSON)
    aggregation_methods: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArchivePolicyRule(Base):
    __tablename__ = "metering_archive_policy_rule"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    metric_pattern: Mapped[str] = mapped_column(String(255))
    archive_policy_name: Mapped[str] = mapped_column(
        ForeignKey("metering_archive_policy.name", ondelete="RESTRICT")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ResourceType(Base):
    __tablename__ = "metering_resource_type"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    # {"display_name": {"type": "string", "required": true, "min_length": 0, ...}}
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(30), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Resource(Base):
    __tablename__ = "metering_resource"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(
        ForeignKey("metering_resource_type.name", ondelete="RESTRICT"), index=True
    )
    original_resource_id: Mapped[str] = mapped_column(String(255))
    project_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    user_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    creator: Mapped[str] = mapped_column(String(255), index=True)  # "user_id:project_id"
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revision_start: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ResourceHistory(Base):
    """A resource as it was before an update, from ``revision_start`` to ``revision_end``."""

    __tablename__ = "metering_resource_history"
    revision: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_id: Mapped[str] = mapped_column(
        ForeignKey("metering_resource.id", ondelete="CASCADE"), index=True
    )
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    revision_end: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Metric(Base):
    __tablename__ = "metering_metric"
    __table_args__ = (UniqueConstraint("resource_id", "name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    unit: Mapped[str | None] = mapped_column(String(31), nullable=True)
    archive_policy_name: Mapped[str] = mapped_column(
        ForeignKey("metering_archive_policy.name", ondelete="RESTRICT"), index=True
    )
    resource_id: Mapped[str | None] = mapped_column(
        ForeignKey("metering_resource.id", ondelete="CASCADE"), nullable=True, index=True
    )
    creator: Mapped[str] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
