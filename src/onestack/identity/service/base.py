"""What every part of the identity service layer shares: the identity context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.bus import Bus
from onestack.common.db import Database
from onestack.config import IdentitySettings

T = TypeVar("T")

NOTIFICATIONS = "notifications.identity"


@dataclass
class IdentityContext:
    """The process's database, bus and identity settings, handed to each part of the service
    layer (as compute hands its parts the ``ComputeContext``)."""

    db: Database
    bus: Bus
    settings: IdentitySettings

    async def notify(self, event_type: str, resource_id: str) -> None:
        """Keystone-style basic notification (``identity.project.created``) on the bus."""
        await self.bus.publish(
            NOTIFICATIONS, f"identity.{event_type}", {"resource_info": resource_id}
        )


async def must_get(session: AsyncSession, model: type[T], ident: str, kind: str) -> T:
    row = await session.get(model, ident)
    if row is None:
        raise errors.NotFound(kind=kind, id=ident)
    return row


def apply_changes(row: Any, changes: dict[str, Any], columns: set[str]) -> None:
    """Set known columns; everything else goes to the row's ``extra`` (Keystone keeps extras)."""
    extra = dict(row.extra or {})
    for key, value in changes.items():
        if key in columns:
            setattr(row, key, value)
        else:
            extra[key] = value
    row.extra = extra
