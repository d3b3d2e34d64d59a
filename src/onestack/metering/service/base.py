"""What every part of the metering service shares: the database, the two stores, the
settings, and who may see what (Gnocchi's creator / owner rules)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.config import MeteringSettings
from onestack.metering.drivers.base import AggregateStore, IncomingStore

# Gnocchi turns a resource id that is not a UUID into this namespace's UUID5.
RESOURCE_ID_NAMESPACE = uuid.UUID("0a7a15ff-aa13-4ac2-897c-9bdf30ce175b")


@dataclass
class Context:
    db: Database
    settings: MeteringSettings
    incoming: IncomingStore
    store: AggregateStore
    wake: asyncio.Event = field(default_factory=asyncio.Event)


def creator(ctx: RequestContext) -> str:
    """``user_id:project_id``, as Gnocchi records who created a resource or metric."""
    return f"{ctx.user_id}:{ctx.project_id or ''}"


def split_creator(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    user, _, project = value.partition(":")
    return user, project or None


def sees_all(ctx: RequestContext) -> bool:
    return ctx.is_admin


def may_see_resource(ctx: RequestContext, project_id: str | None, creator_value: str) -> bool:
    """A resource of the caller's project, or one the caller's project created."""
    if sees_all(ctx):
        return True
    _, created_by_project = split_creator(creator_value)
    return ctx.project_id is not None and ctx.project_id in (project_id, created_by_project)


def resource_uuid(value: Any) -> str:
    """The UUID a resource id names: itself, or its UUID5 (``original_resource_id``)."""
    text = str(value)
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return str(uuid.uuid5(RESOURCE_ID_NAMESPACE, text))
