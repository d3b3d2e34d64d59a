"""Shared fixtures: a real running cloud per test session (per xdist worker)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cloud import Cloud, base_env, free_port
from tests.support.databases import throwaway_database


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db-url",
        default=os.environ.get("ONESTACK_TEST_DATABASE_URL", ""),
        help="PostgreSQL/MariaDB server URL to run the API tests against (default: SQLite)",
    )


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A fresh database on the chosen server, or None for SQLite in the data dir."""
    with throwaway_database(request.config.getoption("--db-url")) as url:
        yield url


@pytest.fixture
def fresh_database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A fresh database of the test's own on the chosen server (None: SQLite, in the data dir
    the test gives its processes)."""
    with throwaway_database(request.config.getoption("--db-url")) as url:
        yield url


def new_cloud(root: Path, database_url: str | None) -> Cloud:
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = base_env(home, database_url)
    return Cloud(data_dir=root / "data", home=home, port=free_port(), env=env)


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory, database_url: str | None) -> Iterator[Cloud]:
    """One `onestack up` shared by the API tests of this session."""
    c = new_cloud(tmp_path_factory.mktemp("cloud"), database_url)
    c.start()
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def fresh_cloud(tmp_path: Path) -> Cloud:
    """A cloud of the test's own (not started): for start/stop/restart behaviour."""
    return new_cloud(tmp_path, None)
