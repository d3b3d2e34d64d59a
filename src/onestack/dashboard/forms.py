"""Every dashboard form, one way: fields declared once, the posted form read and its required
fields checked before any API call, the API's refusal in its own words beside the field it
names (or above the form), the form shown again with what the user typed; and the choices a
select offers, built from the user's own resources."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import ImmutableMultiDict
from starlette.responses import Response

from onestack.dashboard.client import APIError
from onestack.dashboard.web import Ctx

REQUIRED = "This field is required."
CHECKED = ("on", "true", "1", "yes")

PANEL = "admin/form.html"  # the admin and identity panels' forms

Options = list[tuple[str, str]]  # (value, label) of a select


@dataclass(frozen=True)
class Field:
    name: str
    label: str = ""
    # text, number, email, password, date, time, textarea, select, checkbox, hidden, file
    type: str = "text"
    value: str = ""  # shown before anything is posted (``Form.values`` may say otherwise)
    required: bool = False
    help: str = ""
    options: Sequence[tuple[str, str]] = ()
    multiple: bool = False  # a select of several values: its value is a list
    words: Sequence[str] = ()  # how the API names the field in its messages
    empty: str = ""  # a select's first option, for no choice


class FormError(Exception):
    """A value refused before any API call: the message, and the field it concerns ('')."""

    def __init__(self, message: str, name: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.name = name


@dataclass(kw_only=True)
class Form:
    """One form as shown: its fields, the values kept, and the messages beside them."""

    fields: Sequence[Field]
    title: str = ""
    button: str = ""
    action: str = ""  # where it posts: the page's own URL when empty
    cancel: str = ""
    intro: str = ""
    danger: bool = False  # a disruptive action: the form is its confirmation
    template: str = "project/storage_form.html"
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    error: str = ""  # a refusal that names no field: shown above the form

    def __post_init__(self) -> None:
        for f in self.fields:
            self.values.setdefault(f.name, [] if f.multiple else f.value)
            if f.type == "checkbox":
                self.values[f.name] = "on" if checkbox(self.values, f.name) else ""

    def fill(self, data: ImmutableMultiDict[str, Any]) -> dict[str, Any]:
        """Keep what was posted (shown again as typed, but for passwords) and return it."""
        for f in self.fields:
            if f.type == "file":
                continue
            if f.multiple:
                self.values[f.name] = [str(v) for v in data.getlist(f.name)]
            elif f.type == "checkbox":
                self.values[f.name] = "on" if str(data.get(f.name, "")).lower() in CHECKED else ""
            elif f.type == "password":
                self.values[f.name] = str(data.get(f.name, ""))
            else:
                self.values[f.name] = str(data.get(f.name, "")).strip()
        return self.values

    def require(self, *names: str) -> bool:
        """Mark the empty required fields (or those named); True when none is empty."""
        wanted = names or [f.name for f in self.fields if f.required]
        for name in wanted:
            if not self.values.get(name):
                self.errors[name] = REQUIRED
        return not self.errors

    async def read(self, ctx: Ctx) -> dict[str, Any]:
        """The posted values, the required ones checked (see ``errors``)."""
        self.fill(await ctx.form())
        self.require()
        return self.values

    def text(self, name: str) -> str:
        return str(self.values.get(name, "")).strip()

    def flag(self, name: str) -> bool:
        return checkbox(self.values, name)

    def refused(self, err: APIError | FormError, among: Iterable[str] = ()) -> None:
        """Place the message by the field it names (of ``among`` when given), or above the
        form. A 404 that names none of the fields is the page's own resource gone: the
        not-found page."""
        if isinstance(err, FormError) and err.name:
            self.errors[err.name] = err.message
            return
        chosen = set(among)
        fields = [f for f in self.fields if not chosen or f.name in chosen]
        name = field_of(err.message, fields, self.values)
        if name:
            self.errors[name] = err.message
        elif isinstance(err, APIError) and err.status == 404:
            raise err
        else:
            self.error = err.message

    def render(self, ctx: Ctx, status: int = 200, **extra: Any) -> Response:
        if status == 200 and (self.errors or self.error):
            status = 400
        if not self.action:
            self.action = ctx.request.url.path
        return ctx.render(
            str(extra.pop("template", self.template)), status=status, form=self, **extra
        )


def field_of(message: str, fields: Sequence[Field], values: Mapping[str, Any]) -> str:
    """The field a message speaks of: the one whose name (also with spaces), label, API word
    or quoted value comes first in it; '' when it names none."""
    lowered = message.lower()
    best, where = "", len(message) + 1
    for f in fields:
        if f.type == "hidden":
            continue
        needles = {f.name, f.name.replace("_", " "), *f.words}
        if f.label:
            needles.add(f.label)
        value = values.get(f.name)
        if isinstance(value, str) and value.strip() and f.type not in ("password", "checkbox"):
            needles.add(f"'{value.strip()}'")
        for needle in needles:
            found = re.search(rf"(?<![\w-]){re.escape(needle.lower())}(?![\w-])", lowered)
            if found and found.start() < where:
                best, where = f.name, found.start()
    return best


def checkbox(values: Mapping[str, Any], name: str) -> bool:
    value = values.get(name)
    return value is True or str(value or "").lower() in CHECKED


def refusal(err: APIError) -> str:
    """An API refusal's message, for a flash; 403 and 404 keep their own pages."""
    if err.status in (403, 404):
        raise err
    return err.message


def number(value: str) -> int | str:
    """The number a field holds, or the text as typed (the API judges it and says why)."""
    try:
        return int(value)
    except ValueError:
        return value


def whole(values: Mapping[str, Any], name: str, minimum: int = 0) -> int:
    """A whole number checked here (for APIs that would take anything)."""
    try:
        found = int(values.get(name, "") or "0")
    except ValueError:
        raise FormError("Enter a whole number.", name) from None
    if found < minimum:
        raise FormError(f"Ensure this value is greater than or equal to {minimum}.", name)
    return found


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


def next_marker(items: Sequence[Mapping[str, Any]], links: Any = None, size: int = 0) -> str:
    """The marker of the next page: the API's ``next`` link says there is one, or (an API
    without links, ``links`` None) a full page of ``size``; '' for none."""
    if not items:
        return ""
    if links is None and size:
        more = len(items) >= size
    else:
        more = any(link.get("rel") == "next" for link in links or [])
    return str(items[-1]["id"]) if more else ""


def confirm(
    ctx: Ctx, title: str, question: str, cancel: str, button: str = "", action: str = ""
) -> Response:
    """The confirmation a destructive action asks first (it posts to ``action``, by default
    the page itself)."""
    return ctx.render(
        "confirm.html",
        title=title,
        question=question,
        action=ctx.url(action) if action else ctx.request.url.path,
        cancel=ctx.url(cancel),
        button=button or title,
    )


# The choices of the selects many forms share: the user's own resources, by id, shown by name.


def named(items: Iterable[Mapping[str, Any]]) -> Options:
    """Resources as choices: their id, shown by name (the id when unnamed)."""
    return [(str(i["id"]), str(i.get("name") or i["id"])) for i in items]


async def flavors(ctx: Ctx, but: str = "") -> Options:
    """The flavors (but the one named ``but``), smallest first, with their sizes."""
    found = (await ctx.api.get("compute", "/flavors/detail"))["flavors"]
    return [
        (str(f["id"]), f"{f['name']} ({f['vcpus']} VCPU, {f['ram']} MB RAM, {f['disk']} GB disk)")
        for f in sorted(found, key=lambda f: (f.get("ram", 0), f.get("name", "")))
        if f["name"] != but
    ]


async def images(ctx: Ctx, limit: int, **params: str) -> Options:
    """The active images the user may boot."""
    found = await ctx.api.get("image", "/v2/images", limit=limit, status="active", **params)
    return named(found["images"])


async def external_networks(ctx: Ctx) -> Options:
    """The networks floating IPs and router gateways come from."""
    found = await ctx.api.get(
        "network", "/v2.0/networks", **{"router:external": "true"}, fields=["id", "name"]
    )
    return named(found["networks"])


async def security_groups(ctx: Ctx) -> Options:
    """The project's security groups."""
    found = await ctx.api.get(
        "network",
        "/v2.0/security-groups",
        project_id=ctx.user.project_id,
        fields=["id", "name"],
        limit=100,
    )
    return named(found["security_groups"])
