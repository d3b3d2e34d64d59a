"""The alarm evaluator (Aodh's): every ``[alarming] evaluation_interval`` seconds the one
process holding the ``evaluator`` lease evaluates every enabled alarm against metering,
moves it between ok / alarm / insufficient data as Aodh's threshold evaluator does, and
fires the new state's actions; event alarms fire on matching notifications."""

from __future__ import annotations

import fnmatch
import json
import operator
import os
import socket
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, update

from onestack.alarming import models, rules
from onestack.alarming.notifier import Notifier, body
from onestack.alarming.service import AlarmService, watcher
from onestack.alarming.timeconstraints import within
from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.common.logging import get_logger
from onestack.metering.facade import MeteringAPI, Point

log = get_logger(__name__)
LEASE = "evaluator"
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "lt": operator.lt, "le": operator.le, "eq": operator.eq, "ne": operator.ne,
    "ge": operator.ge, "gt": operator.gt,
}  # fmt: skip
ACTIONS = {
    "ok": "ok_actions",
    "alarm": "alarm_actions",
    "insufficient data": "insufficient_data_actions",
}


class Insufficient(Exception):
    def __init__(self, reason: str, statistics: list[float]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.statistics = statistics


def owner(alarm: models.Alarm) -> RequestContext:
    """The alarm's creator as metering sees it: its project's resources only."""
    return watcher(alarm.project_id, alarm.user_id)


class Evaluator:
    def __init__(
        self,
        db: Database,
        svc: AlarmService,
        metering: MeteringAPI,
        notifier: Notifier,
        interval: Callable[[], float],
    ) -> None:
        self.db = db
        self.svc = svc
        self.metering = metering
        self.notifier = notifier
        self.interval = interval
        self.holder = f"{socket.gethostname()}/{os.getpid()}/{id(self):x}"

    # --- the lease ----------------------------------------------------------------------

    async def lease(self) -> bool:
        """Hold (or take over an expired) ``evaluator`` lease for three intervals."""
        now = utcnow()
        expires = now + timedelta(seconds=3 * self.interval())
        try:
            async with self.db.session() as s:
                if await s.get(models.Lease, LEASE) is None:
                    s.add(models.Lease(name=LEASE, holder=self.holder, expires=expires))
                    return True
        except errors.Conflict:
            pass
        async with self.db.session() as s:
            result = await s.execute(
                update(models.Lease)
                .where(models.Lease.name == LEASE)
                .where(or_(models.Lease.holder == self.holder, models.Lease.expires < now))
                .values(holder=self.holder, expires=expires)
            )
            return bool(getattr(result, "rowcount", 0))

    # --- threshold alarms -----------------------------------------------------------------

    async def run_once(self) -> int:
        """One round (when holding the lease); the number of alarms evaluated."""
        if not await self.lease():
            return 0
        count = 0
        for alarm in await self.svc.enabled():
            if alarm.type == rules.EVENT or not within(alarm.time_constraints):
                continue
            try:
                await self.evaluate(alarm)
                count += 1
            except Exception:
                log.exception("alarm %s: evaluation failed", alarm.id)
        return count

    async def evaluate(self, alarm: models.Alarm) -> None:
        ctx = owner(alarm)
        if alarm.type == rules.COMPOSITE:
            state, reason, data = await self._composite(ctx, alarm.rule)
            await self._refresh(alarm, state, reason, data, continuous=alarm.repeat_actions)
            return
        try:
            stats = await self._statistics(ctx, alarm.type, alarm.rule)
        except Insufficient as exc:
            if alarm.state != "insufficient data":
                last = exc.statistics[-1] if exc.statistics else None
                data = _reason_data("unknown", alarm.rule["evaluation_periods"], last)
                await self._refresh(alarm, "insufficient data", exc.reason, data)
            else:
                await self.svc.touch(alarm.id)
            return
        compared = [
            COMPARE[alarm.rule["comparison_operator"]](v, alarm.rule["threshold"]) for v in stats
        ]
        outside = sum(compared)
        if all(compared) or not any(compared):
            state = "alarm" if all(compared) else "ok"
            if alarm.state != state or alarm.repeat_actions:
                await self._refresh(alarm, state, *_reason(alarm, stats, state, outside))
            else:
                await self.svc.touch(alarm.id)
            return
        trending = "alarm" if compared[-1] else "ok"  # mixed: only leaves "unknown"
        if alarm.state == "insufficient data" or alarm.repeat_actions:
            state = trending if alarm.state == "insufficient data" else alarm.state
            await self._refresh(alarm, state, *_reason(alarm, stats, state, outside))
        else:
            await self.svc.touch(alarm.id)

    async def _statistics(
        self, ctx: RequestContext, kind: str, rule: dict[str, Any]
    ) -> list[float]:
        gran = float(rule["granularity"])
        # Aodh's window, bounded at both ends: without ``stop`` metering ends a series of
        # several metrics at the last point all of them have (Gnocchi's rule), and once one
        # of them stops (a group's removed member) the alarm would see no newer point at all.
        stop = time.time()
        start = stop - gran * (rule["evaluation_periods"] + 1)
        method = rule["aggregation_method"]
        base = method.removeprefix("rate:")
        try:
            if kind == rules.RESOURCES_THRESHOLD:
                points = await self.metering.measures(
                    ctx,
                    rule["resource_id"],
                    rule["metric"],
                    aggregation=method,
                    granularity=gran,
                    start=start,
                    stop=stop,
                )
            elif kind == rules.BY_METRICS:
                ops = ["aggregate", method, ["metric", *([m, base] for m in rule["metrics"])]]
                points = await self.metering.aggregate(
                    ctx, ops, granularity=gran, start=start, stop=stop
                )
            else:
                ops = ["aggregate", method, ["metric", rule["metric"], base]]
                points = await self.metering.aggregate(
                    ctx,
                    ops,
                    granularity=gran,
                    start=start,
                    stop=stop,
                    search=_query(rule["query"]),
                    resource_type=rule["resource_type"],
                )
        except errors.OneStackError as exc:
            raise Insufficient(f"alarm statistics retrieval failed: {exc.message}", []) from None
        values = _sanitize(points, gran)
        if len(values) < rule["evaluation_periods"]:
            raise Insufficient(f"{rule['evaluation_periods']} datapoints are unknown", values)
        return values[-rule["evaluation_periods"] :]

    async def _composite(
        self, ctx: RequestContext, rule: dict[str, Any]
    ) -> tuple[str, str, dict[str, Any]]:
        value = await self._tree(ctx, rule)
        state = {True: "alarm", False: "ok", None: "insufficient data"}[value]
        reason = (
            f"Composite rule alarm with composition form: {_form(rule)} "
            + {
                "alarm": "transition to alarm",
                "ok": "transition to ok",
                "insufficient data": "is unknown",
            }[state]
        )
        return state, reason, {"type": "composite", "composition_form": _form(rule)}

    async def _tree(self, ctx: RequestContext, rule: dict[str, Any]) -> bool | None:
        if "type" in rule:
            try:
                stats = await self._statistics(ctx, rule["type"], rule)
            except Insufficient:
                return None
            compared = [COMPARE[rule["comparison_operator"]](v, rule["threshold"]) for v in stats]
            return True if all(compared) else (False if not any(compared) else None)
        op, parts = next(iter(rule.items()))
        values = [await self._tree(ctx, p) for p in parts]
        if op == "and":
            return False if False in values else (True if all(v is True for v in values) else None)
        return True if True in values else (False if all(v is False for v in values) else None)

    async def _refresh(
        self,
        alarm: models.Alarm,
        state: str,
        reason: str,
        data: dict[str, Any],
        continuous: bool = True,
    ) -> None:
        if alarm.state == state and not (continuous and alarm.repeat_actions):
            await self.svc.touch(alarm.id)
            return
        before = await self.svc.transition(alarm.id, state, reason, data)
        if before is None:
            return
        actions = list(getattr(before, ACTIONS[state]))
        if actions:
            self.notifier.fire(actions, body(before, before.state, state, reason, data))

    # --- event alarms ---------------------------------------------------------------------

    async def on_event(self, event_type: str, payload: dict[str, Any]) -> None:
        project = payload.get("tenant_id") or payload.get("project_id")
        for alarm in await self.svc.enabled():
            if alarm.type != rules.EVENT or not within(alarm.time_constraints):
                continue
            if not fnmatch.fnmatchcase(event_type, alarm.rule.get("event_type", "*")):
                continue
            if project and alarm.project_id != project and alarm.project_id:
                continue
            if not all(_event_match(q, payload) for q in alarm.rule.get("query", [])):
                continue
            reason = f"Event <id={payload.get('message_id', '')},event_type={event_type}> hits the query <query={alarm.rule.get('query', [])}>."  # noqa: E501
            data = {"type": "event", "event": {"event_type": event_type, "traits": payload}}
            await self._refresh(alarm, "alarm", reason, data)


def _sanitize(points: list[Point], gran: float) -> list[float]:
    return [p.value for p in points if p.granularity == gran]


def _query(text: str) -> Any:
    return json.loads(text)


def _reason_data(disposition: str, count: int, most_recent: float | None) -> dict[str, Any]:
    return {
        "type": "threshold",
        "disposition": disposition,
        "count": count,
        "most_recent": most_recent,
    }


def _reason(
    alarm: models.Alarm, stats: list[float], state: str, outside: int
) -> tuple[str, dict[str, Any]]:
    disposition = "inside" if state == "ok" else "outside"
    count = len(stats) - outside if state == "ok" else outside
    last = stats[-1] if stats else None
    data = _reason_data(disposition, count, last)
    verb = "Transition to" if alarm.state != state else "Remaining as"
    return (
        f"{verb} {state} due to {count} samples {disposition} threshold, most recent: {last}",
        data,
    )


def _form(rule: dict[str, Any]) -> str:
    if "type" in rule:
        return f"{rule['type']}({rule.get('metric') or rule.get('metrics')})"
    op, parts = next(iter(rule.items()))
    return "(" + f" {op} ".join(_form(p) for p in parts) + ")"


def _event_match(query: dict[str, Any], payload: dict[str, Any]) -> bool:
    field = str(query["field"]).removeprefix("traits.")
    value = payload.get(field)
    if value is None:
        return False
    op: Callable[[float, float], bool] = COMPARE.get(query.get("op", "eq"), operator.eq)
    wanted: Any = query["value"]
    if query.get("type") in ("integer", "float"):
        try:
            return bool(op(float(value), float(wanted)))
        except (TypeError, ValueError):
            return False
    text, other = str(value), str(wanted)
    return {
        "eq": text == other,
        "ne": text != other,
        "lt": text < other,
        "le": text <= other,
        "gt": text > other,
        "ge": text >= other,
    }.get(query.get("op", "eq"), False)
