"""A restart tells a current schema without alembic: the heads it reads from the scripts must be
alembic's own, and a schema behind them still goes through alembic."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from onestack.app import SERVICES
from onestack.common import migrations
from onestack.common.db import Database

DIRS = [s.migrations for s in SERVICES if s.migrations is not None]


def test_declared_heads_are_alembics() -> None:
    script = ScriptDirectory.from_config(migrations.alembic_config(DIRS))
    assert migrations.declared_heads(DIRS) == set(script.get_heads())


def test_a_script_not_plainly_written_leaves_it_to_alembic(tmp_path: Path) -> None:
    (tmp_path / "x_0001.py").write_text("revision = make_id()\ndown_revision = None\n")
    assert migrations.declared_heads([tmp_path]) is None


def test_merge_revisions_are_read(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text('revision: str = "b"\ndown_revision = None\n')
    (tmp_path / "c.py").write_text('revision = "c"\ndown_revision = ("a", "b")\n')
    heads = migrations.declared_heads([tmp_path])
    assert heads is not None and "c" in heads and not {"a", "b"} & heads


@pytest.mark.asyncio
async def test_upgrade_then_restart_then_behind(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite'}")
    try:
        assert await migrations.upgrade(db.engine, DIRS) is True  # empty: alembic runs
        assert await migrations.upgrade(db.engine, DIRS) is False  # current: nothing runs
        async with db.engine.begin() as conn:  # one branch a revision behind
            await conn.execute(
                text(
                    "UPDATE alembic_version SET version_num = 'image_0003' "
                    "WHERE version_num = 'image_0004'"
                )
            )
            for kind in ("tag", "property", "object", "association", "resource_type"):
                await conn.execute(text(f"DROP TABLE image_metadef_{kind}"))
            await conn.execute(text("DROP TABLE image_metadef_namespace"))
        assert await migrations.upgrade(db.engine, DIRS) is True  # alembic ran image_0004
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert "image_metadef_namespace" in tables
    finally:
        await db.close()


def test_revision_ids_fit_alembics_version_column() -> None:
    # alembic_version.version_num is VARCHAR(32): PostgreSQL and MariaDB refuse a longer id
    # (SQLite does not check, so only the database layers would have found it).
    script = ScriptDirectory.from_config(migrations.alembic_config(DIRS))
    long = [rev.revision for rev in script.walk_revisions() if len(rev.revision) > 32]
    assert long == []
