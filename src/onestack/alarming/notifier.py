"""Alarm actions (Aodh's notifiers): ``log://`` logs; ``http(s)://`` POSTs Aodh's JSON body,
retried with back-off in the background so evaluation never waits; ``trust+http(s)://``
does the same with a token of the alarm's stored application credential."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from onestack.common.logging import get_logger

log = get_logger(__name__)
RETRIES = 3
BACKOFF = 0.5  # seconds before the first retry, doubled each time
TIMEOUT = 10.0

TokenSource = Callable[[str, str], Awaitable[str]]  # (credential id, secret) -> token


def body(
    alarm: Any, previous: str, current: str, reason: str, reason_data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "alarm_name": alarm.name,
        "alarm_id": alarm.id,
        "severity": alarm.severity,
        "previous": previous,
        "current": current,
        "reason": reason,
        "reason_data": reason_data,
    }


def _post(url: str, data: bytes, headers: dict[str, str]) -> int:
    req = urllib.request.Request(url, data=data, method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310 - http(s) only
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


class Notifier:
    def __init__(self, tokens: TokenSource | None = None) -> None:
        self.tokens = tokens
        self.tasks: set[asyncio.Task[None]] = set()
        self.sent = 0  # deliveries that got a 2xx (for tests and status)

    def fire(self, actions: list[str], payload: dict[str, Any]) -> None:
        """Send ``payload`` to every action, each in its own background task."""
        for action in actions:
            task = asyncio.get_running_loop().create_task(self._deliver(action, payload))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _deliver(self, action: str, payload: dict[str, Any]) -> None:
        url = urlsplit(action)
        if url.scheme in ("log", "test"):
            # Aodh's LogAlarmNotifier line, word for word: operators grep their logs for it.
            log.info(
                "Notifying alarm %(alarm_name)s %(alarm_id)s of %(severity)s priority from "
                "%(previous)s to %(current)s with action %(action)s because %(reason)s.",
                {**payload, "action": action},
            )
            self.sent += 1
            return
        headers = {
            "Content-Type": "application/json",
            "x-openstack-request-id": f"req-{uuid.uuid4()}",
        }
        target = action
        if url.scheme.startswith("trust+"):
            target = urlunsplit(
                url._replace(scheme=url.scheme[6:], netloc=url.netloc.rsplit("@", 1)[-1])
            )
            if self.tokens is None or not url.username or not url.password:
                log.warning(
                    "alarm %s: trust action %s has no credential", payload["alarm_id"], target
                )
                return
            try:
                headers["X-Auth-Token"] = await self.tokens(
                    unquote(url.username), unquote(url.password)
                )
            except Exception as exc:
                log.warning("alarm %s: no token for %s: %s", payload["alarm_id"], target, exc)
                return
        await self._post_with_retries(target, json.dumps(payload).encode(), headers)

    async def _post_with_retries(self, url: str, data: bytes, headers: dict[str, str]) -> None:
        delay = BACKOFF
        for attempt in range(RETRIES + 1):
            try:
                status = await asyncio.to_thread(_post, url, data, headers)
                if status < 500:
                    if status < 300:
                        self.sent += 1
                    else:
                        log.warning("alarm action %s answered %s", url, status)
                    return
                log.warning("alarm action %s answered %s (try %d)", url, status, attempt + 1)
            except (OSError, ValueError) as exc:
                log.warning("alarm action %s failed (try %d): %s", url, attempt + 1, exc)
            if attempt < RETRIES:
                await asyncio.sleep(delay)
                delay *= 2

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
