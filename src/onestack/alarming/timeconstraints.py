"""Alarm time constraints: evaluate only during ``duration`` seconds after each time a cron
expression (``start``) fires, in the constraint's timezone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

LIMITS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))  # minute hour day month weekday
MAX_SCAN_MINUTES = 31 * 24 * 60


def _values(field: str, low: int, high: int) -> set[int]:
    out: set[int] = set()
    for part in field.split(","):
        rng, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if rng == "*":
            first, last = low, high
        elif "-" in rng:
            a, b = rng.split("-")
            first, last = int(a), int(b)
        else:
            first = last = int(rng)
            if step_text:
                last = high
        out.update(range(first, last + 1, max(step, 1)))
    return out


def matches(cron: str, moment: datetime) -> bool:
    fields = cron.split()
    sets = [_values(f, lo, hi) for f, (lo, hi) in zip(fields, LIMITS, strict=True)]
    weekday = (moment.weekday() + 1) % 7  # cron: Sunday is 0
    return (
        moment.minute in sets[0]
        and moment.hour in sets[1]
        and moment.day in sets[2]
        and moment.month in sets[3]
        and weekday in sets[4]
    )


def within(constraints: list[dict[str, Any]], now: datetime | None = None) -> bool:
    """Whether ``now`` falls in one of the constraints' windows (always, without any)."""
    if not constraints:
        return True
    now = now or datetime.now(UTC)
    for tc in constraints:
        zone = ZoneInfo(tc["timezone"]) if tc.get("timezone") else UTC
        local = now.astimezone(zone).replace(second=0, microsecond=0)
        minutes = min(int(tc["duration"]) // 60 + 1, MAX_SCAN_MINUTES)
        for back in range(minutes + 1):
            start = local - timedelta(minutes=back)
            if matches(tc["start"], start) and start <= now < start + timedelta(
                seconds=int(tc["duration"])
            ):
                return True
    return False
