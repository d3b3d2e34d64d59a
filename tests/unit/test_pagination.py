"""Paging parameters, and keyset paging on a real (in-memory SQLite) table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from onestack.common import errors
from onestack.common.pagination import PageParams, apply_page, next_link, parse_page_params

KEYS = ("name", "size", "created_at", "description")


# --- parse_page_params ---------------------------------------------------------------------
class TestParse:
    def test_nothing_given(self) -> None:
        p = parse_page_params({}, KEYS)
        assert p == PageParams(limit=None, marker=None, sort=(("created_at", "desc"),))

    def test_default_sort_is_the_callers(self) -> None:
        p = parse_page_params({}, KEYS, default_sort=(("name", "asc"),))
        assert p.sort == (("name", "asc"),)

    def test_limit_and_marker(self) -> None:
        p = parse_page_params({"limit": "5", "marker": "abc"}, KEYS)
        assert p.limit == 5
        assert p.marker == "abc"

    def test_limit_zero(self) -> None:
        assert parse_page_params({"limit": "0"}, KEYS).limit == 0

    def test_limit_is_capped(self) -> None:
        assert parse_page_params({"limit": "5000"}, KEYS).limit == 1000
        assert parse_page_params({"limit": "50"}, KEYS, max_limit=20).limit == 20

    @pytest.mark.parametrize("limit", ["abc", "", "1.5", "ten", "0x10"])
    def test_limit_not_an_integer(self, limit: str) -> None:
        with pytest.raises(errors.BadRequest, match="limit must be an integer"):
            parse_page_params({"limit": limit}, KEYS)

    def test_negative_limit(self) -> None:
        with pytest.raises(errors.BadRequest, match="non-negative"):
            parse_page_params({"limit": "-1"}, KEYS)

    def test_empty_marker_is_none(self) -> None:
        assert parse_page_params({"marker": ""}, KEYS).marker is None

    def test_sort_key_and_dir(self) -> None:
        p = parse_page_params({"sort_key": "name", "sort_dir": "asc"}, KEYS)
        assert p.sort == (("name", "asc"),)

    def test_sort_key_without_dir_is_desc(self) -> None:
        assert parse_page_params({"sort_key": "name"}, KEYS).sort == (("name", "desc"),)

    def test_several_keys_and_dirs(self) -> None:
        p = parse_page_params({"sort_key": "name,size", "sort_dir": "asc,desc"}, KEYS)
        assert p.sort == (("name", "asc"), ("size", "desc"))

    def test_one_dir_for_several_keys(self) -> None:
        p = parse_page_params({"sort_key": "name,size", "sort_dir": "asc"}, KEYS)
        assert p.sort == (("name", "asc"), ("size", "asc"))

    def test_key_colon_dir_form(self) -> None:
        p = parse_page_params({"sort_key": "name:asc,size:desc"}, KEYS)
        assert p.sort == (("name", "asc"), ("size", "desc"))

    def test_inline_dir_beats_sort_dir(self) -> None:
        p = parse_page_params({"sort_key": "name:asc,size", "sort_dir": "desc,desc"}, KEYS)
        assert p.sort == (("name", "asc"), ("size", "desc"))

    def test_empty_sort_key_uses_default(self) -> None:
        assert parse_page_params({"sort_key": ""}, KEYS).sort == (("created_at", "desc"),)

    @pytest.mark.parametrize(
        "query",
        [
            {"sort_key": "password"},
            {"sort_key": "name,password"},
            {"sort_key": "password:asc"},
            {"sort_key": "Name"},
        ],
    )
    def test_unknown_sort_key(self, query: dict[str, str]) -> None:
        with pytest.raises(errors.BadRequest, match="Invalid sort key"):
            parse_page_params(query, KEYS)

    @pytest.mark.parametrize(
        "query",
        [
            {"sort_key": "name", "sort_dir": "up"},
            {"sort_key": "name:sideways"},
            {"sort_key": "name,size", "sort_dir": "asc,descending"},
            {"sort_key": "name", "sort_dir": "ASC"},
        ],
    )
    def test_bad_sort_dir(self, query: dict[str, str]) -> None:
        with pytest.raises(errors.BadRequest, match="Invalid sort direction"):
            parse_page_params(query, KEYS)


def test_next_link_moves_the_marker() -> None:
    link = next_link(
        "http://h/v2.1/servers", {"limit": "2", "marker": "old", "name": "a b"}, "last-id"
    )
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://h/v2.1/servers"
    assert parse_qs(parts.query) == {"limit": ["2"], "marker": ["last-id"], "name": ["a b"]}


# --- apply_page on SQLite ------------------------------------------------------------------
class Base(DeclarativeBase):
    pass


class Thing(Base):
    __tablename__ = "things"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(String(64), nullable=True)


def make_rows() -> list[dict[str, Any]]:
    """23 rows with heavy ties: 3 names, 4 sizes, 5 timestamps, descriptions half NULL; ids not
    in insertion order."""
    rows = []
    for i in range(23):
        rows.append(
            {
                "id": f"id-{(i * 7) % 23:02d}",
                "name": ["alpha", "beta", "gamma"][i % 3],
                "size": (i * 5) % 4,
                "created_at": f"2024-01-0{1 + i % 5}T00:00:00",
                "description": [None, "x", None, "y"][(i * 3) % 4],
            }
        )
    return rows


ROWS = make_rows()


@pytest.fixture
async def session() -> AsyncIterator[AsyncSession]:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    maker = async_sessionmaker(engine, expire_on_commit=False)
    async with maker() as s:
        s.add_all(Thing(**r) for r in ROWS)
        await s.commit()
        yield s
    await engine.dispose()


def null_lowest(value: Any) -> tuple[bool, Any]:
    return (value is not None, 0 if value is None else value)


def expected_order(sort: tuple[tuple[str, str], ...]) -> list[str]:
    """What ORDER BY sort, id (in the last direction) gives, NULL lowest: sorted in Python."""
    keys = [*sort, ("id", sort[-1][1] if sort else "asc")]
    rows = list(ROWS)
    for key, direction in reversed(keys):  # stable sorts, least significant key first
        rows.sort(key=lambda r, k=key: null_lowest(r[k]), reverse=direction == "desc")
    return [r["id"] for r in rows]


async def page_through(session: AsyncSession, params: PageParams) -> tuple[list[str], int]:
    seen: list[str] = []
    marker: str | None = None
    pages = 0
    while True:
        marker_row = await session.get(Thing, marker) if marker else None
        stmt = apply_page(select(Thing), Thing, params, marker_row)
        page = list((await session.scalars(stmt)).all())
        pages += 1
        assert pages < 100, "paging does not end"
        if not page:
            return seen, pages
        assert params.limit is not None and len(page) <= params.limit
        seen.extend(t.id for t in page)
        marker = page[-1].id


SORTS: list[tuple[tuple[str, str], ...]] = [
    (("name", "asc"),),
    (("name", "desc"),),
    (("size", "asc"),),
    (("created_at", "desc"),),
    (("name", "asc"), ("size", "desc")),
    (("size", "desc"), ("name", "asc")),
    (("name", "desc"), ("created_at", "asc"), ("size", "desc")),
    (("description", "asc"),),
    (("description", "desc"),),
    (("description", "asc"), ("name", "desc")),
    (("name", "asc"), ("description", "desc")),
    (),
]


@pytest.mark.parametrize("sort", SORTS, ids=lambda s: ",".join(f"{k}:{d}" for k, d in s) or "id")
@pytest.mark.parametrize("limit", [1, 4, 7])
async def test_keyset_paging_returns_every_row_once_in_order(
    session: AsyncSession, sort: tuple[tuple[str, str], ...], limit: int
) -> None:
    seen, pages = await page_through(session, PageParams(limit, None, sort))
    assert len(seen) == len(set(seen)) == len(ROWS)
    assert seen == expected_order(sort)
    assert pages == -(-len(ROWS) // limit) + 1  # full pages, then one empty page


async def test_whole_list_without_limit(session: AsyncSession) -> None:
    sort = (("name", "asc"), ("size", "asc"))
    stmt = apply_page(select(Thing), Thing, PageParams(None, None, sort), None)
    ids = [t.id for t in (await session.scalars(stmt)).all()]
    assert ids == expected_order(sort)


async def test_marker_in_the_middle(session: AsyncSession) -> None:
    sort = (("created_at", "desc"),)
    order = expected_order(sort)
    marker = await session.get(Thing, order[10])
    stmt = apply_page(select(Thing), Thing, PageParams(5, order[10], sort), marker)
    assert [t.id for t in (await session.scalars(stmt)).all()] == order[11:16]


async def test_marker_is_the_last_row(session: AsyncSession) -> None:
    sort = (("size", "asc"),)
    last = await session.get(Thing, expected_order(sort)[-1])
    stmt = apply_page(select(Thing), Thing, PageParams(5, "x", sort), last)
    assert (await session.scalars(stmt)).all() == []


async def test_limit_zero_returns_nothing(session: AsyncSession) -> None:
    stmt = apply_page(select(Thing), Thing, PageParams(0, None, (("name", "asc"),)), None)
    assert (await session.scalars(stmt)).all() == []


async def test_filters_are_kept(session: AsyncSession) -> None:
    sort = (("size", "desc"),)
    params = PageParams(2, None, sort)
    base = select(Thing).where(Thing.name == "beta")
    seen: list[str] = []
    marker_row = None
    for _ in range(20):
        page = list((await session.scalars(apply_page(base, Thing, params, marker_row))).all())
        if not page:
            break
        seen.extend(t.id for t in page)
        marker_row = page[-1]
    betas = [
        i for i in expected_order(sort) if next(r for r in ROWS if r["id"] == i)["name"] == "beta"
    ]
    assert seen == betas
    assert len(betas) == 8


async def test_from_query_parameters_to_pages(session: AsyncSession) -> None:
    """The whole path a handler takes: parse the query, page, follow the next marker."""
    query = {"limit": "6", "sort_key": "name:desc,size", "sort_dir": "asc"}
    params = parse_page_params(query, KEYS)
    assert params.sort == (("name", "desc"), ("size", "asc"))
    seen, _ = await page_through(session, params)
    assert seen == expected_order(params.sort)


async def test_marker_with_null_sort_value(session: AsyncSession) -> None:
    sort = (("description", "asc"),)
    order = expected_order(sort)
    null_rows = [r["id"] for r in ROWS if r["description"] is None]
    marker = await session.get(Thing, order[2])
    assert marker is not None and marker.description is None
    stmt = apply_page(select(Thing), Thing, PageParams(None, marker.id, sort), marker)
    rest = [t.id for t in (await session.scalars(stmt)).all()]
    assert rest == order[3:]
    assert set(order[: len(null_rows)]) == set(null_rows)  # NULLs first going up


def test_nullable_keys_order_nulls_lowest_on_every_engine() -> None:
    """PostgreSQL puts NULLs last going up; the ORDER BY must say where they go."""
    from sqlalchemy.dialects import postgresql

    stmt = apply_page(select(Thing), Thing, PageParams(None, None, (("description", "asc"),)), None)
    sql = str(stmt.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]
    order_by = sql.split("ORDER BY", 1)[1]
    assert "things.description IS NULL DESC" in order_by
    assert order_by.index("IS NULL") < order_by.index("things.description ASC")
    # A NOT NULL key keeps a plain, index-friendly ORDER BY.
    stmt = apply_page(select(Thing), Thing, PageParams(None, None, (("name", "asc"),)), None)
    assert "IS NULL" not in str(stmt.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]


def test_every_sort_has_ties() -> None:
    # The fixture data must make the tie-breaker matter for each single key.
    for key in KEYS:
        values = [r[key] for r in ROWS]
        assert len(set(values)) < len(values)
    combos = {(r["name"], r["size"]) for r in ROWS}
    assert len(combos) < len(ROWS)
