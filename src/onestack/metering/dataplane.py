"""Choosing and loading the metering stores (service side: drivers import nothing of common)."""

from __future__ import annotations

from pathlib import Path

from onestack.common.agent import LoadedDriver, load_driver
from onestack.metering.drivers.base import AggregateStore, IncomingStore
from onestack.metering.drivers.file import FileAggregates, FileIncoming
from onestack.metering.drivers.sqlite import SqliteAggregates


def create_incoming(name: str, root: Path, redis_url: str) -> LoadedDriver[IncomingStore]:
    def redis() -> IncomingStore:
        from onestack.metering.drivers.redis import RedisIncoming

        return RedisIncoming(redis_url)

    return load_driver(
        "metering incoming",
        name,
        {"file": lambda: FileIncoming(root), "redis": redis},
    )


def create_aggregates(name: str, root: Path) -> LoadedDriver[AggregateStore]:
    return load_driver(
        "metering storage",
        name,
        {"sqlite": lambda: SqliteAggregates(root), "file": lambda: FileAggregates(root)},
    )
