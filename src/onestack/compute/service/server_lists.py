"""Server lists as Nova filters, sorts and pages them: the filters (in SQL where they can be,
else on the listed rows), the sort keys, and the plain rows a list reads."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import JSON, ColumnElement, Row, Select, Text, and_, cast, select
from sqlalchemy.ext.asyncio import AsyncConnection

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.db import json_loads
from onestack.compute import models, states


@dataclass
class ListFilters:
    all_projects: bool = False
    project_id: str | None = None
    user_id: str | None = None
    name: str | None = None
    status: list[str] | None = None
    host: str | None = None
    node: str | None = None
    image: str | None = None
    flavor: str | None = None
    ip: str | None = None
    ip6: str | None = None
    reservation_id: str | None = None
    availability_zone: str | None = None
    changes_since: datetime | None = None
    changes_before: datetime | None = None
    deleted: bool = False
    locked: bool | None = None
    tags: list[str] = field(default_factory=list)
    tags_any: list[str] = field(default_factory=list)
    not_tags: list[str] = field(default_factory=list)
    not_tags_any: list[str] = field(default_factory=list)
    vm_state: list[str] | None = None
    task_state: list[str] | None = None
    key_name: str | None = None
    description: str | None = None


SORT_KEYS = {
    "created_at": models.Instance.created_at,
    "updated_at": models.Instance.updated_at,
    "display_name": models.Instance.display_name,
    "uuid": models.Instance.uuid,
    "host": models.Instance.host,
    "vm_state": models.Instance.vm_state,
    "task_state": models.Instance.task_state,
    "launched_at": models.Instance.launched_at,
    "terminated_at": models.Instance.terminated_at,
    "project_id": models.Instance.project_id,
    "user_id": models.Instance.user_id,
    "availability_zone": models.Instance.availability_zone,
    "key_name": models.Instance.key_name,
    "hostname": models.Instance.hostname,
    "power_state": models.Instance.power_state,
    "image_ref": models.Instance.image_ref,
    "id": models.Instance.id,
}


class ListedServer(NamedTuple):
    """A server as a detailed list loads it: the columns its views read (and the filters
    applied in Python), named as the ORM attributes. Plain rows, not ORM objects: half the
    time of a list of 1,000 servers; a named tuple, not SQLAlchemy's ``Row``, whose attributes
    take ten times as long to read (the views read 40 of them per server)."""

    id: int
    uuid: str
    display_name: str
    display_description: str | None
    flavor: dict[str, Any]
    hostname: str
    project_id: str
    user_id: str
    host: str | None
    node: str | None
    availability_zone: str | None
    image_ref: str
    vm_state: str
    task_state: str | None
    power_state: int
    launched_at: datetime | None
    terminated_at: datetime | None
    key_name: str | None
    user_data: str | None
    config_drive: bool
    locked: bool
    locked_reason: str | None
    access_ip_v4: str | None
    access_ip_v6: str | None
    progress: int
    launch_index: int
    reservation_id: str
    security_groups: list[str]
    request: dict[str, Any]
    fault: dict[str, Any] | None
    trusted_image_certificates: list[str] | None
    network_info: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime


_COLUMNS = tuple(getattr(models.Instance, name) for name in ListedServer._fields)
# A detailed list reads its JSON columns as their text, decoded once per distinct text of the
# page (``listed``): a page's servers mostly share their flavor, their request and empty lists,
# and decoding 6,000 values (through three layers of SQLAlchemy's processors each) was a
# seventh of the time of a list of 1,000.
_JSON = tuple(i for i, c in enumerate(_COLUMNS) if isinstance(c.type, JSON))
DETAIL_COLUMNS = tuple(
    cast(c, Text).label(c.key) if i in _JSON else c for i, c in enumerate(_COLUMNS)
)
# A summary shows ids and names (the flavor and description for the filters applied in
# Python): plain rows of those.
SUMMARY_COLUMNS = _COLUMNS[:5]
_MISSING = object()


def listed(result: Iterable[Sequence[Any]]) -> list[ListedServer]:
    """The rows of a detailed list's query (``DETAIL_COLUMNS``) with their JSON decoded: the
    servers of one page share the decoded values of equal texts, which nothing changes (the
    views copy what they adapt)."""
    decoded: dict[str, Any] = {}
    out = []
    for row in result:
        values = list(row)
        for i in _JSON:
            text = values[i]
            if isinstance(text, str):  # None is SQL's NULL
                value = decoded.get(text, _MISSING)
                if value is _MISSING:
                    value = decoded[text] = json_loads(text)
                values[i] = value
        out.append(ListedServer._make(values))
    return out


def conditions(ctx: RequestContext, f: ListFilters) -> list[ColumnElement[bool]]:
    I = models.Instance  # noqa: E741 - the table, short
    conds: list[ColumnElement[bool]] = []
    if not f.all_projects or not ctx.is_admin:
        conds.append(I.project_id == (ctx.project_id or ""))
    elif f.project_id:
        conds.append(I.project_id == f.project_id)
    if f.deleted and ctx.is_admin:
        conds.append(I.deleted.is_(True))
    elif not f.changes_since and not f.changes_before:
        conds.append(I.deleted.is_(False))
    if f.user_id:
        conds.append(I.user_id == f.user_id)
    if f.status:
        vm: list[str] = []
        for st in f.status:
            vm += states.STATUS_TO_VM_STATES.get(st.upper(), [])
        conds.append(I.vm_state.in_(vm or ["-"]))
    if f.vm_state:
        conds.append(I.vm_state.in_(f.vm_state))
    if f.task_state:
        conds.append(I.task_state.in_(f.task_state))
    for attr, col in (
        ("host", I.host),
        ("node", I.node),
        ("reservation_id", I.reservation_id),
        ("availability_zone", I.availability_zone),
        ("key_name", I.key_name),
    ):
        value = getattr(f, attr)
        if value is not None:
            conds.append(col == value)
    if f.image:
        conds.append(I.image_ref == f.image.rstrip("/").rsplit("/", 1)[-1])
    if f.locked is not None:
        conds.append(I.locked.is_(f.locked))
    if f.changes_since:
        conds.append(I.updated_at >= f.changes_since)
    if f.changes_before:
        conds.append(I.updated_at <= f.changes_before)
    for tag in f.tags:
        conds.append(
            I.uuid.in_(
                select(models.InstanceTag.instance_uuid).where(models.InstanceTag.tag == tag)
            )
        )
    if f.tags_any:
        conds.append(
            I.uuid.in_(
                select(models.InstanceTag.instance_uuid).where(
                    models.InstanceTag.tag.in_(f.tags_any)
                )
            )
        )
    if f.not_tags:
        conds.append(
            ~and_(
                *[
                    I.uuid.in_(
                        select(models.InstanceTag.instance_uuid).where(models.InstanceTag.tag == t)
                    )
                    for t in f.not_tags
                ]
            )
        )
    if f.not_tags_any:
        conds.append(
            ~I.uuid.in_(
                select(models.InstanceTag.instance_uuid).where(
                    models.InstanceTag.tag.in_(f.not_tags_any)
                )
            )
        )
    return conds


def list_query(
    ctx: RequestContext, f: ListFilters, sort: list[tuple[str, str]], *, full: bool
) -> Select[Any]:
    """The servers the filters keep (those SQL can apply), sorted: ``created_at desc`` and
    ``id desc`` by default, ``id desc`` last whatever the sort. ``full``: every column a
    detailed list shows, else the summary's."""
    columns = DETAIL_COLUMNS if full else SUMMARY_COLUMNS
    order: list[Any] = []
    for key, direction in sort or [("created_at", "desc"), ("id", "desc")]:
        col = SORT_KEYS[key]
        order.append(col.desc() if direction == "desc" else col.asc())
    if not any(k == "id" for k, _ in sort):
        order.append(models.Instance.id.desc())
    return select(*columns).where(and_(*conditions(ctx, f))).order_by(*order)


def filter_in_python(
    rows: list[ListedServer | Row[Any]], f: ListFilters
) -> list[ListedServer | Row[Any]]:
    """The filters SQL does not apply: the name as a regular expression (a substring when it
    is none), the flavor, the description."""
    if f.name:
        try:
            pattern = re.compile(f.name)
        except re.error:
            rows = [r for r in rows if f.name in r.display_name]
        else:
            rows = [r for r in rows if pattern.search(r.display_name)]
    if f.flavor:
        rows = [r for r in rows if r.flavor.get("flavorid") == f.flavor]
    if f.description:
        rows = [r for r in rows if f.description in (r.display_description or "")]
    return rows


def after_marker(
    rows: list[ListedServer | Row[Any]], marker: str | None
) -> list[ListedServer | Row[Any]]:
    """The rows after the server ``marker`` (400 when it is not among them)."""
    if marker is None:
        return rows
    index = next((i for i, r in enumerate(rows) if r.uuid == marker), None)
    if index is None:
        raise errors.BadRequest(f"marker [{marker}] not found")
    return rows[index + 1 :]


# A detailed page this much smaller than the servers it is cut from reads the full columns of
# its own rows only: a page of 20 among 1,000 servers read every row's JSON columns (the
# dashboard's instances page, #18).
PAGE_FIRST = 200


async def page_rows(
    conn: AsyncConnection,
    ctx: RequestContext,
    f: ListFilters,
    sort: list[tuple[str, str]],
    limit: int,
    marker: str | None,
) -> list[ListedServer | Row[Any]]:
    """One detailed page: the summary columns choose its rows (filters, sort, marker), then
    the full columns of those rows only, in the chosen order."""
    light = list(await conn.execute(list_query(ctx, f, sort, full=False)))
    chosen = after_marker(filter_in_python(light, f), marker)[:limit]
    if not chosen:
        return []
    uuids = [r.uuid for r in chosen]
    result = await conn.execute(select(*DETAIL_COLUMNS).where(models.Instance.uuid.in_(uuids)))
    by_uuid = {row.uuid: row for row in listed(result)}
    return [by_uuid[u] for u in uuids if u in by_uuid]


def filter_ip(
    rows: list[ListedServer | Row[Any]],
    ports: dict[str, list[dict[str, Any]]],
    ip: str | None,
    ip6: str | None,
) -> list[ListedServer | Row[Any]]:
    """The rows with a fixed or floating address (of their ``ports``) matching ``ip`` or
    ``ip6`` (regular expressions, as Nova's)."""
    out = []
    for r in rows:
        addrs = [
            a["ip_address"] for p in ports.get(r.uuid, []) for a in p.get("fixed_ips") or []
        ] + [
            fip["floating_ip_address"]
            for p in ports.get(r.uuid, [])
            for fip in p.get("floating_ips") or []
        ]
        v4 = [a for a in addrs if ":" not in a]
        v6 = [a for a in addrs if ":" in a]
        if ip and not any(re.search(ip, a) for a in v4):
            continue
        if ip6 and not any(re.search(ip6, a) for a in v6):
            continue
        out.append(r)
    return out
