"""Alembic migrations of every service, run on start (each service owns a branch)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

ENV_DIR = Path(__file__).parent / "alembic"


def alembic_config(version_dirs: Sequence[Path], connection: Any = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ENV_DIR))
    cfg.set_main_option("version_locations", " ".join(str(d) for d in version_dirs))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Any, version_dirs: Sequence[Path]) -> bool:
    cfg = alembic_config(version_dirs, connection)
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return False
    command.upgrade(cfg, "heads")
    return True


async def upgrade(engine: AsyncEngine, version_dirs: Sequence[Path]) -> bool:
    """Bring the schema to the newest revision of every branch; True if anything ran."""
    async with engine.begin() as conn:
        return bool(await conn.run_sync(_upgrade, version_dirs))
