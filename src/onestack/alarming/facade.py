"""What other services may ask of alarming: ``runtime.service(AlarmingAPI)``.

Alarms made, changed, shown and deleted as ``ctx`` (the same checks as Aodh's API: the rule,
the actions a non-admin may give, the project's quota); the bodies and views are Aodh's
v2 shapes (``{"type", "name", "<type>_rule", "alarm_actions", ...}``). A missing alarm, or
another project's, is ``AlarmNotFound`` (a 404)."""

from __future__ import annotations

from typing import Any, Protocol

from onestack.common.context import RequestContext


class AlarmingAPI(Protocol):
    async def create(self, ctx: RequestContext, body: Any) -> dict[str, Any]: ...

    async def show(self, ctx: RequestContext, alarm_id: str) -> dict[str, Any]: ...

    async def update(self, ctx: RequestContext, alarm_id: str, body: Any) -> dict[str, Any]: ...

    async def delete(self, ctx: RequestContext, alarm_id: str) -> None: ...
