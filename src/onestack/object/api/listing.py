"""Account and container listings: the query (``limit``, ``marker``, ``end_marker``,
``prefix``, ``delimiter``, ``reverse``, ``path``) and the three formats (text, JSON, XML)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

import orjson

from onestack.object import errors
from onestack.object.api import symlink
from onestack.object.api.http import SwiftRequest, iso_date, iso_dates
from onestack.object.api.metadata import CONTAINER_LISTING_LIMIT
from onestack.object.drivers.base import ContainerEntry, Listing, ObjectEntry, Subdir

JSON = b"application/json; charset=utf-8"
XML = b"application/xml; charset=utf-8"
TEXT = b"text/plain; charset=utf-8"


def listing_format(req: SwiftRequest) -> str:
    fmt = req.query.get("format", "").lower()
    if fmt == "json":
        return "json"
    if fmt == "xml":
        return "xml"
    if fmt in ("plain", "txt", "text"):
        return "text"
    accept = req.header("accept", "*/*").lower()
    best, best_q = "", -1.0
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        kind = {
            "text/plain": "text",
            "application/json": "json",
            "application/xml": "xml",
            "text/xml": "xml",
            "*/*": "text",
            "text/*": "text",
            "application/*": "json",
        }.get(media.strip())
        if kind and q > best_q and q > 0:
            best, best_q = kind, q
    if not best:
        raise errors.NotAcceptable()
    return best


def listing_query(req: SwiftRequest) -> Listing:
    q = req.query
    raw_limit = q.get("limit", "")
    limit = CONTAINER_LISTING_LIMIT
    if raw_limit:
        try:
            limit = int(raw_limit)
        except ValueError:
            raise errors.PreconditionFailed("Value of limit must be a positive integer") from None
        if limit < 0:
            raise errors.PreconditionFailed("Value of limit must be a positive integer")
        if limit > CONTAINER_LISTING_LIMIT:
            raise errors.PreconditionFailed(f"Maximum limit is {CONTAINER_LISTING_LIMIT}")
    prefix = q.get("prefix", "")
    delimiter = q.get("delimiter", "")
    if len(delimiter) > 1:
        raise errors.PreconditionFailed("Bad delimiter")
    if "path" in q:
        path = q["path"].rstrip("/")
        prefix = f"{path}/" if path else ""
        delimiter = "/"
    reverse = q.get("reverse", "").lower() in ("1", "true", "yes", "on", "t", "y")
    for key in ("marker", "end_marker", "prefix", "delimiter", "path"):
        if "\x00" in q.get(key, ""):
            raise errors.PreconditionFailed("Invalid UTF8 or contains NULL")
    return Listing(
        limit=limit,
        marker=q.get("marker", ""),
        end_marker=q.get("end_marker", ""),
        prefix=prefix,
        delimiter=delimiter,
        reverse=reverse,
        now=time.time(),
    )


def render_objects(
    entries: Sequence[ObjectEntry | Subdir],
    fmt: str,
    container: str,
    path_mode: bool,
    account: str = "",
    version: str = "v1",
) -> tuple[bytes, bytes]:
    """The listing's body and type; symlinks' rows in JSON show their targets."""
    if path_mode:
        entries = [e for e in entries if not isinstance(e, Subdir)]
    links = any(type(e) is ObjectEntry and ";symlink_target=" in e[3] for e in entries)
    if fmt == "json":
        body = _json_objects(entries)
        if not links:
            return orjson.dumps(body), JSON
        return orjson.dumps([symlink.listing_row(row, account, version) for row in body]), JSON
    if links:
        entries = [
            e._replace(content_type=symlink.plain_type(e.content_type))
            if type(e) is ObjectEntry
            else e
            for e in entries
        ]
    if fmt == "xml":
        parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<container name={quoteattr(container)}>']
        for e in entries:
            if isinstance(e, Subdir):
                parts.append(
                    f"<subdir name={quoteattr(e.name)}><name>{escape(e.name)}</name></subdir>"
                )
            else:
                parts.append(
                    f"<object><name>{escape(e.name)}</name><hash>{e.etag}</hash>"
                    f"<bytes>{e.size}</bytes><content_type>{escape(e.content_type)}</content_type>"
                    f"<last_modified>{iso_date(e.timestamp)}</last_modified></object>"
                )
        parts.append("</container>")
        return "".join(parts).encode(), XML
    return "".join(f"{e.name}\n" for e in entries).encode(), TEXT


def _json_objects(entries: Sequence[ObjectEntry | Subdir]) -> list[dict[str, object]]:
    if not any(type(e) is Subdir for e in entries):  # rows only: unpacked as tuples
        rows: Sequence[ObjectEntry] = entries  # type: ignore[assignment]
        dates = iso_dates([e[4] for e in rows])
        return [
            {
                "hash": etag,
                "last_modified": modified,
                "bytes": size,
                "name": name,
                "content_type": ctype,
            }
            for (name, size, etag, ctype, _), modified in zip(rows, dates, strict=True)
        ]
    return [
        {
            "hash": e.etag,
            "last_modified": iso_date(e.timestamp),
            "bytes": e.size,
            "name": e.name,
            "content_type": e.content_type,
        }
        if type(e) is ObjectEntry
        else {"subdir": e.name}
        for e in entries
    ]


def render_containers(
    entries: Sequence[ContainerEntry | Subdir], fmt: str, account: str
) -> tuple[bytes, bytes]:
    if fmt == "json":
        out = [
            {"subdir": e.name}
            if isinstance(e, Subdir)
            else {
                "name": e.name,
                "count": e.object_count,
                "bytes": e.bytes_used,
                "last_modified": iso_date(e.timestamp),
            }
            for e in entries
        ]
        return orjson.dumps(out), JSON
    if fmt == "xml":
        parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<account name={quoteattr(account)}>']
        for e in entries:
            if isinstance(e, Subdir):
                parts.append(
                    f"<subdir name={quoteattr(e.name)}><name>{escape(e.name)}</name></subdir>"
                )
            else:
                parts.append(
                    f"<container><name>{escape(e.name)}</name><count>{e.object_count}</count>"
                    f"<bytes>{e.bytes_used}</bytes>"
                    f"<last_modified>{iso_date(e.timestamp)}</last_modified></container>"
                )
        parts.append("</account>")
        return "".join(parts).encode(), XML
    return "".join(f"{e.name}\n" for e in entries).encode(), TEXT
