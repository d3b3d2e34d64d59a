"""Alembic migrations of every service, run on start (each service owns a branch)."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

ENV_DIR = Path(__file__).parent / "alembic"
COMMON_VERSIONS = Path(__file__).parent / "schema"  # common's own tables (quota locks)


# A script's ``revision = "x"`` / ``down_revision = ...`` lines (optionally annotated).
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.MULTILINE)


def alembic_config(version_dirs: Sequence[Path], connection: Any = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(ENV_DIR))
    dirs = dict.fromkeys([COMMON_VERSIONS, *version_dirs])  # common's branch is always there
    cfg.set_main_option("version_locations", " ".join(str(d) for d in dirs))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["connection"] = connection
    return cfg


def declared_heads(version_dirs: Sequence[Path]) -> set[str] | None:
    """The head revisions, read from the scripts' assignments without importing alembic or
    the scripts; None when a script is not written plainly enough to tell (alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for directory in dict.fromkeys([COMMON_VERSIONS, *version_dirs]):
        for path in directory.glob("*.py"):
            found: dict[str, list[str]] = {}
            for name, value in _ASSIGNMENT.findall(path.read_text()):
                found.setdefault(name, []).append(value)
            if len(found.get("revision", ())) != 1 or len(found.get("down_revision", ())) != 1:
                return None
            try:
                revision = ast.literal_eval(found["revision"][0])
                down = ast.literal_eval(found["down_revision"][0])
            except (ValueError, SyntaxError):
                return None
            downs = [down] if isinstance(down, str) else list(down or ())
            if not isinstance(revision, str) or not all(isinstance(d, str) for d in downs):
                return None
            revisions.add(revision)
            parents.update(downs)
    return revisions - parents


def _current_heads(connection: Any) -> set[str] | None:
    """The revisions the database is at, None before alembic ever ran on it."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return {
        str(row[0]) for row in connection.execute(text("SELECT version_num FROM alembic_version"))
    }


def _upgrade(connection: Any, version_dirs: Sequence[Path]) -> bool:
    # A restart finds the schema current: telling so without alembic saves importing it and
    # every script (a third of a restart, #19). Anything unclear goes to alembic.
    declared = declared_heads(version_dirs)
    if declared is not None and declared == _current_heads(connection):
        return False
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = alembic_config(version_dirs, connection)
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return False
    command.upgrade(cfg, "heads")
    return True


def _upgrade_first(connection: Any, version_dirs: Sequence[Path], first: Sequence[Path]) -> bool:
    if _current_heads(connection) is None:
        return _upgrade(connection, first)
    # Later starts: every branch at once (alembic knows no revision of a branch left out).
    return _upgrade(connection, version_dirs)


async def upgrade(
    engine: AsyncEngine, version_dirs: Sequence[Path], first: Sequence[Path] | None = None
) -> bool:
    """Bring the schema to the newest revision of every branch; True if anything ran.

    ``first``: on an empty database, only these branches (what must be there before the
    process answers); a later ``upgrade`` of every branch adds the others."""
    async with engine.begin() as conn:
        if first is not None:
            return bool(await conn.run_sync(_upgrade_first, version_dirs, first))
        return bool(await conn.run_sync(_upgrade, version_dirs))
