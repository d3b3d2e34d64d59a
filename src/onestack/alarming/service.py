"""Alarms: create, read, update, delete, state, history and quotas (Aodh's API layer and
storage), checked against what the creator may see in metering."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select

from onestack.alarming import models, rules
from onestack.alarming.errors import AlarmNotFound, InvalidAlarm, OverQuota
from onestack.alarming.schemas import ACTION_FIELDS, AlarmBody, Quotas
from onestack.alarming.trusts import Trusts
from onestack.alarming.views import alarm_view, change_view
from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.common.http import validate
from onestack.common.quota import lock_quota
from onestack.config import AlarmingSettings
from onestack.metering.facade import MeteringAPI

MUTABLE = (
    "name",
    "description",
    "enabled",
    "severity",
    "repeat_actions",
    "state",
    "ok_actions",
    "alarm_actions",
    "insufficient_data_actions",
    "time_constraints",
)
QUERY_FIELDS = (
    "user_id",
    "project_id",
    "type",
    "name",
    "enabled",
    "state",
    "severity",
    "repeat_actions",
)
MANUAL = "Manually set via API"
HISTORY_SORT_KEYS = ("timestamp", "type", "event_id", "severity", "user_id", "project_id")


def watcher(
    project_id: str, user_id: str, request_id: str = "req-alarm-evaluator"
) -> RequestContext:
    """How an alarm of ``project_id`` reads metering: as a member of that project, even when
    an admin made it, so what it may watch at creation is what it can see when evaluated."""
    return RequestContext(
        request_id=request_id, user_id=user_id, project_id=project_id, roles=("member", "reader")
    )


class AlarmService:
    def __init__(self, db: Database, settings: AlarmingSettings, metering: MeteringAPI) -> None:
        self.db = db
        self.settings = settings
        self.metering = metering

    # --- validation ---------------------------------------------------------------------

    async def _validated(
        self, ctx: RequestContext, body: AlarmBody, old: models.Alarm | None = None
    ) -> dict[str, Any]:
        """The columns of a checked body, once its rule watches only what the alarm's
        project may see: checked as the evaluator will read, an alarm cannot watch another
        project's resource, whoever makes it (an admin's would stay "insufficient data")."""
        project = old.project_id if old else self._project_of(ctx, body)
        reader = watcher(project, ctx.user_id, ctx.request_id)
        await self._check_visible(reader, body.type, body.rule)
        return body.columns()

    async def _check_visible(self, ctx: RequestContext, kind: str, rule: dict[str, Any]) -> None:
        """An alarm watches only what its creator may see (another project's: 404)."""
        if kind == rules.RESOURCES_THRESHOLD:
            if not await self.metering.resource_visible(ctx, rule["resource_id"]):
                raise errors.NotFound(f"Resource {rule['resource_id']} does not exist")
        elif kind == rules.BY_METRICS:
            for metric in rule["metrics"]:
                if not await self.metering.metric_visible(ctx, metric):
                    raise errors.NotFound(f"Metric {metric} does not exist")
        elif kind == rules.COMPOSITE:
            for sub in _leaves(rule):
                await self._check_visible(ctx, sub["type"], sub)

    # --- CRUD ---------------------------------------------------------------------------

    @staticmethod
    def _project_of(ctx: RequestContext, body: AlarmBody) -> str:
        """The project a new alarm belongs to: the caller's, or the one an admin names."""
        if ctx.is_admin:
            return str(body.project_id or ctx.project_id or "")
        return ctx.project_id or ""

    async def create(self, ctx: RequestContext, body: AlarmBody) -> dict[str, Any]:
        values = await self._validated(ctx, body)
        project = self._project_of(ctx, body)
        user = ctx.user_id
        if ctx.is_admin:
            user = str(body.user_id or user)
        async with self.db.session() as s:
            await self._check_quota(s, project, user)
            now = utcnow()
            row = models.Alarm(
                id=str(uuid.uuid4()),
                project_id=project,
                user_id=user,
                state_reason="Not evaluated yet",
                state_timestamp=now,
                timestamp=now,
                **values,
            )
            s.add(row)
            view = alarm_view(row)
            s.add(_change(row, "creation", json.dumps(view), ctx))
        return view

    async def _check_quota(self, s: Any, project: str, user: str) -> None:
        """403 past the project's alarm quota, counted under the project's quota lock (held
        until the create commits: concurrent creates count one after the other)."""
        await lock_quota(s, f"alarming:{project}")
        limit = self.settings.project_alarm_quota
        row = await s.get(models.Quota, (project, "alarms"))
        if row is not None:
            limit = row.limit
        if limit < 0:
            return
        count = await s.scalar(
            select(func.count()).select_from(models.Alarm).where(models.Alarm.project_id == project)
        )
        if count >= limit:
            raise OverQuota(user=user, project=project)

    async def row(self, ctx: RequestContext | None, alarm_id: str) -> models.Alarm:
        async with self.db.session() as s:
            row = await s.get(models.Alarm, alarm_id)
        if row is None or (
            ctx is not None and not ctx.is_admin and row.project_id != ctx.project_id
        ):
            raise AlarmNotFound(id=alarm_id)
        return row

    async def show(self, ctx: RequestContext, alarm_id: str) -> dict[str, Any]:
        return alarm_view(await self.row(ctx, alarm_id))

    async def listing(
        self,
        ctx: RequestContext,
        query: Mapping[str, str],
        all_projects: bool,
        limit: int | None,
        marker: str | None,
        sort: Sequence[tuple[str, str]],
    ) -> list[dict[str, Any]]:
        stmt = select(models.Alarm)
        if not (ctx.is_admin and all_projects):
            stmt = stmt.where(models.Alarm.project_id == (ctx.project_id or ""))
        for field, value in query.items():
            column = getattr(models.Alarm, field)
            if field in ("enabled", "repeat_actions"):
                stmt = stmt.where(column == (value.lower() in ("true", "1", "yes")))
            else:
                stmt = stmt.where(column == value)
        for key, direction in [*sort, ("timestamp", "desc"), ("id", "asc")]:
            column = getattr(models.Alarm, "id" if key == "alarm_id" else key, None)
            if column is None:
                raise InvalidAlarm(reason=f"Invalid sort key {key}")
            stmt = stmt.order_by(column.desc() if direction == "desc" else column.asc())
        async with self.db.session() as s:
            # One page's rows, not the project's: the marker's place from the ids alone.
            if marker:
                ids = list(await s.scalars(stmt.with_only_columns(models.Alarm.id)))
                if marker not in ids:
                    raise InvalidAlarm(reason=f"Invalid marker: {marker}")
                stmt = stmt.offset(ids.index(marker) + 1)
            if limit:
                stmt = stmt.limit(limit)
            rows = list((await s.scalars(stmt)).all())
        return [alarm_view(r) for r in rows]

    async def update(self, ctx: RequestContext, alarm_id: str, body: AlarmBody) -> dict[str, Any]:
        old = await self.row(ctx, alarm_id)
        values = await self._validated(ctx, body, old)
        async with self.db.session() as s:
            row = await s.get(models.Alarm, alarm_id)
            if row is None:
                raise AlarmNotFound(id=alarm_id)
            before = alarm_view(row)
            for key, value in values.items():
                setattr(row, key, value)
            now = utcnow()
            row.timestamp = now
            if values["state"] != before["state"]:
                row.state_timestamp, row.state_reason = now, MANUAL
            after = alarm_view(row)
            changed = {
                k: v
                for k, v in after.items()
                if before.get(k) != v and k not in ("timestamp", "state_timestamp")
            }
            if changed:
                s.add(_change(row, "rule change", json.dumps(changed), ctx))
        return after

    async def delete(self, ctx: RequestContext, alarm_id: str) -> None:
        row = await self.row(ctx, alarm_id)
        async with self.db.session() as s:
            live = await s.get(models.Alarm, row.id)
            if live is None:  # a concurrent delete won
                raise AlarmNotFound(id=alarm_id)
            s.add(_change(live, "deletion", json.dumps(alarm_view(live)), ctx))
            await s.delete(live)

    # --- state and history ----------------------------------------------------------------

    async def set_state(self, ctx: RequestContext, alarm_id: str, state: str) -> str:
        await self.row(ctx, alarm_id)
        await self.transition(alarm_id, state, MANUAL, {}, ctx)
        return str(state)

    async def transition(
        self,
        alarm_id: str,
        state: str,
        reason: str,
        reason_data: dict[str, Any],
        ctx: RequestContext | None = None,
    ) -> models.Alarm | None:
        """Record the alarm's new state (and its evaluation time); the row before it."""
        async with self.db.session() as s:
            row = await s.get(models.Alarm, alarm_id)
            if row is None:
                return None
            before = models.Alarm(
                **{c.key: getattr(row, c.key) for c in models.Alarm.__table__.columns}
            )
            now = utcnow()
            row.evaluate_timestamp = now
            if row.state != state or ctx is not None:
                row.state, row.state_reason, row.state_timestamp = state, reason, now
            detail = json.dumps({"state": state, "transition_reason": reason})
            s.add(_change(row, "state transition", detail, ctx))
        return before

    async def touch(self, alarm_id: str) -> None:
        async with self.db.session() as s:
            row = await s.get(models.Alarm, alarm_id)
            if row is not None:
                row.evaluate_timestamp = utcnow()

    async def history(
        self,
        ctx: RequestContext,
        alarm_id: str,
        limit: int | None = None,
        marker: str | None = None,
        sort: Sequence[tuple[str, str]] = (),
    ) -> list[dict[str, Any]]:
        """Newest first unless ``sort`` says otherwise (``key:asc|desc``, Aodh's paging);
        ``marker`` is the last event_id of the previous page."""
        row = None
        async with self.db.session() as s:
            changes = (
                await s.scalars(
                    select(models.AlarmChange)
                    .where(models.AlarmChange.alarm_id == alarm_id)
                    .order_by(models.AlarmChange.timestamp.desc())
                )
            ).all()
            row = await s.get(models.Alarm, alarm_id)
        project = row.project_id if row else (changes[0].project_id if changes else None)
        if not changes or (not ctx.is_admin and project != ctx.project_id):
            raise AlarmNotFound(id=alarm_id)
        out = [change_view(c) for c in changes]
        for key, direction in reversed(sort):
            if key not in HISTORY_SORT_KEYS:
                raise InvalidAlarm(reason=f"Invalid sort key {key!r}")
            out.sort(key=lambda c: str(c[key] or ""), reverse=direction == "desc")
        if marker is not None:
            ids = [c["event_id"] for c in out]
            if marker not in ids:
                raise InvalidAlarm(reason=f"Invalid marker {marker}")
            out = out[ids.index(marker) + 1 :]
        return out[:limit] if limit else out

    async def search_history(
        self, ctx: RequestContext, predicate: Any, limit: int | None
    ) -> list[dict[str, Any]]:
        """Every change ``predicate`` keeps, newest first; a member sees only the changes of
        its project's alarms (Aodh's visibility field for history is ``on_behalf_of``)."""
        stmt = select(models.AlarmChange).order_by(models.AlarmChange.timestamp.desc())
        if not ctx.is_admin:
            stmt = stmt.where(models.AlarmChange.on_behalf_of == ctx.project_id)
        async with self.db.session() as s:
            changes = (await s.scalars(stmt)).all()
        found = [v for v in map(change_view, changes) if predicate is None or predicate(v)]
        return found[:limit] if limit else found

    async def enabled(self) -> list[models.Alarm]:
        async with self.db.session() as s:
            stmt = select(models.Alarm).where(models.Alarm.enabled.is_(True))
            return list((await s.scalars(stmt)).all())

    # --- quotas -----------------------------------------------------------------------------

    async def quotas(self, project_id: str) -> dict[str, Any]:
        async with self.db.session() as s:
            row = await s.get(models.Quota, (project_id, "alarms"))
        limit = row.limit if row is not None else self.settings.project_alarm_quota
        return {"project_id": project_id, "quotas": [{"resource": "alarms", "limit": limit}]}

    async def set_quotas(self, body: Quotas) -> dict[str, Any]:
        async with self.db.session() as s:
            for limit in body.limits:
                row = await s.get(models.Quota, (body.project_id, "alarms"))
                if row is None:
                    s.add(models.Quota(project_id=body.project_id, resource="alarms", limit=limit))
                else:
                    row.limit = limit
        return await self.quotas(body.project_id)


def _change(
    row: models.Alarm, kind: str, detail: str, ctx: RequestContext | None
) -> models.AlarmChange:
    return models.AlarmChange(
        event_id=str(uuid.uuid4()),
        alarm_id=row.id,
        type=kind,
        detail=detail,
        project_id=ctx.project_id if ctx else None,
        user_id=ctx.user_id if ctx else None,
        on_behalf_of=row.project_id,
        severity=row.severity,
        timestamp=utcnow(),
    )


def _leaves(rule: dict[str, Any]) -> list[dict[str, Any]]:
    if "type" in rule:
        return [rule]
    return [leaf for part in next(iter(rule.values())) for leaf in _leaves(part)]


class AlarmingFacade:
    """``AlarmingAPI`` over the service: a body (Aodh's v2 shape) is checked as the API
    checks it (``schemas.AlarmBody``) and its new ``trust+`` actions bound to the caller as
    the API binds them (a stack's alarm to its scaling policy's signal_url fired with no
    credential) before the service makes or changes the alarm."""

    def __init__(self, svc: AlarmService, trusts: Trusts) -> None:
        self.svc, self.trusts = svc, trusts

    async def _bound(self, ctx: RequestContext, alarm: AlarmBody) -> AlarmBody:
        bound = {
            field: await self.trusts.bind(ctx, getattr(alarm, field))
            for field in ACTION_FIELDS
            if field in alarm.sent
        }
        return alarm.model_copy(update=bound)

    async def create(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        alarm = validate(AlarmBody, body, {"old": None, "admin": ctx.is_admin})
        return await self.svc.create(ctx, await self._bound(ctx, alarm))

    async def show(self, ctx: RequestContext, alarm_id: str) -> dict[str, Any]:
        return await self.svc.show(ctx, alarm_id)

    async def update(self, ctx: RequestContext, alarm_id: str, body: Any) -> dict[str, Any]:
        old = await self.svc.row(ctx, alarm_id)
        alarm = validate(AlarmBody, body, {"old": old, "admin": ctx.is_admin})
        return await self.svc.update(ctx, alarm_id, await self._bound(ctx, alarm))

    async def delete(self, ctx: RequestContext, alarm_id: str) -> None:
        await self.svc.delete(ctx, alarm_id)
