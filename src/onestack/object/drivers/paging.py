"""Swift's listing walk, shared by every store: ``marker``/``end_marker`` bounds, ``prefix``,
``delimiter`` (a run of names under one prefix folds into one ``Subdir``) and ``reverse``,
over a store's ``fetch`` of ordered rows between two bounds.

Names compare as Swift compares them: by UTF-8 bytes, which is code point order."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from onestack.object.drivers.base import Listing, Subdir

MAX_CHAR = 0x10FFFF


class Named(Protocol):
    @property
    def name(self) -> str: ...


R = TypeVar("R", bound=Named)


@dataclass(frozen=True, slots=True)
class Bound:
    value: str
    inclusive: bool


def after(name: str) -> str | None:
    """The smallest string greater than every string starting with ``name``, or None."""
    while name:
        last = ord(name[-1])
        if last < MAX_CHAR:
            return name[:-1] + chr(last + 1)
        name = name[:-1]
    return None


# fetch(lower, upper, limit, reverse): rows strictly inside the bounds, ordered by name
# (descending when reverse), at most limit of them, read lazily (a walk that leaves a page
# early does not pay for the rest of it).
Fetch = Callable[[Bound | None, Bound | None, int, bool], Iterable[R]]
SKIP = 8  # rows of a folded directory read before jumping past it with a new query


def _tighter(a: Bound | None, b: Bound | None, lower: bool) -> Bound | None:
    if a is None:
        return b
    if b is None:
        return a
    if a.value == b.value:
        return a if not a.inclusive else b
    if lower:
        return a if a.value > b.value else b
    return a if a.value < b.value else b


def plain_bounds(q: Listing) -> tuple[Bound | None, Bound | None] | None:
    """The bounds of a listing without a delimiter (one query); None when none can match."""
    prefix_low = Bound(q.prefix, True) if q.prefix else None
    top = after(q.prefix) if q.prefix else None
    prefix_high = Bound(top, False) if top is not None else None
    marker = Bound(q.marker, False) if q.marker else None
    end = Bound(q.end_marker, False) if q.end_marker else None
    if q.reverse:
        lower = _tighter(end, prefix_low, lower=True)
        upper = _tighter(marker, prefix_high, lower=False)
    else:
        lower = _tighter(marker, prefix_low, lower=True)
        upper = _tighter(end, prefix_high, lower=False)
    if lower is not None and upper is not None and lower.value >= upper.value:
        return None
    return lower, upper


def walk(fetch: Fetch[R], q: Listing) -> list[R | Subdir]:
    """Pages of rows from ``fetch`` folded into the listing. A few rows under the directory
    just folded are skipped; more, and the next query starts past the directory (a
    directory of a million names costs a query, not a million rows)."""
    out: list[R | Subdir] = []
    prefix_low = Bound(q.prefix, True) if q.prefix else None
    top = after(q.prefix) if q.prefix else None
    prefix_high = Bound(top, False) if top is not None else None
    marker = Bound(q.marker, False) if q.marker else None
    end = Bound(q.end_marker, False) if q.end_marker else None
    sub = ""  # the directory last folded
    while len(out) < q.limit:
        if q.reverse:
            lower = _tighter(end, prefix_low, lower=True)
            upper = _tighter(marker, prefix_high, lower=False)
        else:
            lower = _tighter(marker, prefix_low, lower=True)
            upper = _tighter(end, prefix_high, lower=False)
        if lower is not None and upper is not None and lower.value >= upper.value:
            break
        if not q.delimiter:  # nothing folds: the rows are the listing (no walk per row)
            out.extend(fetch(lower, upper, q.limit, q.reverse))
            break
        asked = q.limit - len(out)
        seen = skipped = 0
        exhausted = True
        for row in fetch(lower, upper, asked, q.reverse):
            seen += 1
            name = row.name
            if sub and name.startswith(sub):
                skipped += 1
                if skipped > SKIP:
                    exhausted = False
                    break
                continue
            sub, skipped = "", 0
            marker = Bound(name, False)
            cut = name.find(q.delimiter, len(q.prefix)) if q.delimiter else -1
            if cut >= 0:
                sub = name[: cut + len(q.delimiter)]
                if sub != q.marker:
                    out.append(Subdir(sub))
            else:
                out.append(row)
            if len(out) >= q.limit:
                exhausted = False
                break
        if exhausted and seen < asked:
            break  # the store has no more rows between the bounds
        if sub:  # jump past the folded directory
            if q.reverse:
                marker = Bound(sub, False)
            else:
                nxt = after(sub)
                if nxt is None:
                    break
                marker = Bound(nxt, True)
    return out
