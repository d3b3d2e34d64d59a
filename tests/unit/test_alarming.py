"""Alarm rules, time constraints, the evaluator's lease and the webhook notifier."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from onestack.alarming import models, notifier, rules
from onestack.alarming.errors import InvalidAlarm
from onestack.alarming.evaluator import Evaluator
from onestack.alarming.timeconstraints import matches, within
from onestack.common import migrations
from onestack.common.db import Database
from tests.support.webhooks import receiver

RULE = {
    "metric": "cpu",
    "resource_id": "r",
    "resource_type": "instance",
    "threshold": "5",
    "aggregation_method": "rate:mean",
}


def test_rules_defaults_and_refusals() -> None:
    rule = rules.check_rule(rules.RESOURCES_THRESHOLD, RULE)
    assert rule["threshold"] == 5.0 and rule["comparison_operator"] == "eq"
    assert (rule["granularity"], rule["evaluation_periods"]) == (60, 1)
    for change in (
        {"threshold": "x"},
        {"threshold": float("inf")},
        {"evaluation_periods": 0},
        {"aggregation_method": "avg"},
        {"metric": None},
    ):
        with pytest.raises(InvalidAlarm):
            rules.check_rule(rules.RESOURCES_THRESHOLD, {**RULE, **change})
    with pytest.raises(InvalidAlarm, match="rule/query"):
        rules.check_rule(rules.BY_RESOURCES, {**RULE, "query": "{not json"})
    composite = rules.check_rule(
        rules.COMPOSITE, {"and": [{"type": rules.RESOURCES_THRESHOLD, **RULE}]}
    )
    assert composite["and"][0]["threshold"] == 5.0
    with pytest.raises(InvalidAlarm):
        rules.check_rule(rules.COMPOSITE, {"xor": []})
    assert rules.check_actions(["http://a/b", "http://a/b"], "alarm_actions", False) == [
        "http://a/b"
    ]
    for bad in ("ftp://x", "log://"):
        with pytest.raises(InvalidAlarm):
            rules.check_actions([bad], "alarm_actions", False)
    assert rules.check_actions(["log://"], "alarm_actions", True) == ["log://"]


def test_time_constraints() -> None:
    tc = rules.check_time_constraints(
        [
            {
                "name": "office",
                "start": "0 9 * * 1-5",
                "duration": 8 * 3600,
                "timezone": "Europe/Paris",
            }
        ]
    )
    monday_noon = datetime(2024, 1, 8, 11, 0, tzinfo=UTC)  # 12:00 in Paris
    sunday_noon = datetime(2024, 1, 7, 11, 0, tzinfo=UTC)
    assert within(tc, monday_noon) and not within(tc, sunday_noon)
    assert matches("*/15 * * * *", datetime(2024, 1, 1, 3, 45))
    with pytest.raises(InvalidAlarm):
        rules.check_time_constraints([{"name": "x", "start": "soon", "duration": 1}])
    with pytest.raises(InvalidAlarm):
        rules.check_time_constraints(
            [{"name": "x", "start": "* * * * *", "duration": 1, "timezone": "Mars/Olympus"}]
        )


def test_one_evaluator_holds_the_lease(tmp_path: Path) -> None:
    async def run() -> None:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'lease.db'}")
        versions = Path(models.__file__).parent / "migrations" / "versions"
        await migrations.upgrade(db.engine, [versions])
        make = lambda: Evaluator(db, None, None, None, lambda: 10.0)  # type: ignore[arg-type]  # noqa: E731
        first, second = make(), make()
        assert await first.lease() and await first.lease()
        assert not await second.lease()
        async with db.session() as s:
            row = await s.get(models.Lease, "evaluator")
            assert row is not None
            row.expires = datetime(2000, 1, 1)
        assert await second.lease() and not await first.lease()
        await db.close()

    asyncio.run(run())


def test_webhook_is_retried_with_aodh_body() -> None:
    alarm = SimpleNamespace(name="a", id="id-1", severity="low")
    payload = notifier.body(alarm, "ok", "alarm", "why", {"type": "threshold"})
    assert set(payload) == {
        "alarm_name",
        "alarm_id",
        "severity",
        "previous",
        "current",
        "reason",
        "reason_data",
    }

    async def run(url: str) -> int:
        n = notifier.Notifier()
        n.fire([url], payload)
        await asyncio.gather(*n.tasks)
        return n.sent

    notifier.BACKOFF = 0.01
    with receiver(fail_first=2) as hook:
        assert asyncio.run(run(hook.url)) == 1
        assert hook.attempts == 3 and hook.bodies == [payload]
        assert hook.headers[0]["x-openstack-request-id"].startswith("req-")
