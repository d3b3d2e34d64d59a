"""Alarm tables (Aodh's storage). Only ``alarming.service`` writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onestack.common.db import Base, UTCDateTime, utcnow


class Alarm(Base):
    __tablename__ = "alarming_alarm"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(64), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(32), default="insufficient data")
    state_reason: Mapped[str] = mapped_column(Text, default="Not evaluated yet")
    state_timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    evaluate_timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    severity: Mapped[str] = mapped_column(String(16), default="low")
    repeat_actions: Mapped[bool] = mapped_column(Boolean, default=False)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    time_constraints: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    ok_actions: Mapped[list[str]] = mapped_column(JSON, default=list)
    alarm_actions: Mapped[list[str]] = mapped_column(JSON, default=list)
    insufficient_data_actions: Mapped[list[str]] = mapped_column(JSON, default=list)


class AlarmChange(Base):
    """One line of an alarm's history: creation, rule change, state transition, deletion."""

    __tablename__ = "alarming_change"
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    alarm_id: Mapped[str] = mapped_column(String(36), index=True)
    type: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    project_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    user_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    on_behalf_of: Mapped[str | None] = mapped_column(String(255), nullable=True)
    severity: Mapped[str | None] = mapped_column(String(16), nullable=True)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Quota(Base):
    __tablename__ = "alarming_quota"
    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(String(50), primary_key=True)
    limit: Mapped[int] = mapped_column(Integer)


class Lease(Base):
    """Who runs a singleton job (the evaluator) until when: one holder across processes."""

    __tablename__ = "alarming_lease"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    expires: Mapped[datetime] = mapped_column(UTCDateTime)
