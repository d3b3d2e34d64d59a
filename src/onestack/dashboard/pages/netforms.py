"""What the network pages share: reading their forms, placing Neutron's refusal next to the
field it concerns, paging markers, and names looked up in one call per page."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData
from starlette.responses import Response

from onestack.dashboard.client import APIError
from onestack.dashboard.web import Ctx, NotFound

CHECKED = ("on", "true", "1", "yes")


@dataclass
class Form:
    """A submitted form's values (kept when it is shown again) and its errors by field."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    error: str = ""  # a refusal that names no field: shown above the form

    def text(self, name: str) -> str:
        return str(self.values.get(name, "")).strip()

    def flag(self, name: str) -> bool:
        return bool(self.values.get(name))

    def require(self, *names: str) -> bool:
        for name in names:
            if not self.text(name):
                self.errors[name] = "This field is required."
        return not self.errors

    def refused(self, exc: APIError, aliases: Mapping[str, Iterable[str]]) -> None:
        """The API's message, beside the field it speaks of (or above the form)."""
        shown = {k: v for k, v in aliases.items() if k in self.values}  # this form's fields
        name = field_of(exc.message, self.values, shown)
        if name:
            self.errors[name] = exc.message
        else:
            self.error = exc.message


def read(form: FormData, texts: Iterable[str], flags: Iterable[str] = ()) -> Form:
    values: dict[str, Any] = {name: str(form.get(name, "")) for name in texts}
    for name in flags:
        values[name] = str(form.get(name, "")).lower() in CHECKED
    return Form(values)


def field_of(message: str, values: Mapping[str, Any], aliases: Mapping[str, Iterable[str]]) -> str:
    """The field a refusal speaks of: the one whose name (or an alias of it) or whose quoted
    value comes first in the message; '' when it names none."""
    lowered = message.lower()
    best, where = "", len(message) + 1
    for name, words in aliases.items():
        needles = [w.lower() for w in (name, *words)]
        value = values.get(name)
        if isinstance(value, str) and value.strip():
            needles.append(f"'{value.strip().lower()}'")
        for needle in needles:
            found = re.search(rf"(?<![\w]){re.escape(needle)}(?![\w])", lowered)
            if found and found.start() < where:
                best, where = name, found.start()
    return best


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


def pools(text: str) -> list[dict[str, str]]:
    """Allocation pools, one ``start,end`` per line (Horizon's syntax)."""
    out = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",") if p.strip()]
        if parts:
            out.append({"start": parts[0], "end": parts[-1]})
    return out


def next_marker(found: Mapping[str, Any], collection: str) -> str:
    items = found.get(collection) or []
    links = found.get(f"{collection}_links") or []
    more = any(link.get("rel") == "next" for link in links)
    return str(items[-1]["id"]) if items and more else ""


async def names(ctx: Ctx, collection: str, ids: Iterable[str]) -> dict[str, str]:
    """Names of Neutron resources by id, in one call."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    found = await ctx.api.get("network", f"/v2.0/{collection}", id=wanted, fields=["id", "name"])
    key = collection.replace("-", "_")
    return {str(r["id"]): str(r.get("name") or r["id"]) for r in found[key]}


async def one(ctx: Ctx, collection: str, member: str, ident: str) -> dict[str, Any]:
    found: dict[str, Any] = (await ctx.api.get("network", f"/v2.0/{collection}/{ident}"))[member]
    return found


def mine(ctx: Ctx, resource: Mapping[str, Any]) -> None:
    """A page that changes a resource: another project's (shared, external) is not found."""
    if resource.get("project_id") != ctx.user.project_id and not ctx.user.is_admin:
        raise NotFound("The resource was not found.")


def confirm(ctx: Ctx, title: str, question: str, action: str, cancel: str) -> Response:
    return ctx.render(
        "confirm.html",
        title=title,
        question=question,
        action=ctx.url(action),
        cancel=ctx.url(cancel),
        button=title,
    )
