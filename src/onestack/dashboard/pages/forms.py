"""Forms the storage pages share: fields declared once, required ones checked before any
API call, and an API refusal's own words placed next to the field they name."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

from onestack.dashboard.client import APIError
from onestack.dashboard.web import Ctx, NotFound

REQUIRED = "This field is required."


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str = "text"  # text, number, textarea, select, checkbox, password, file
    required: bool = False
    help: str = ""
    options: Sequence[tuple[str, str]] = ()  # (value, label) of a select
    words: Sequence[str] = field(default=())  # how the API names it in its messages


@dataclass
class Form:
    """One form as shown: its fields, the values kept, and the messages beside them."""

    title: str
    action: str
    cancel: str
    button: str
    fields: Sequence[Field]
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    error: str = ""  # a refusal that names no field: shown above the form
    intro: str = ""

    async def read(self, ctx: Ctx) -> dict[str, str]:
        data = await ctx.form()
        for f in self.fields:
            if f.type == "checkbox":
                self.values[f.name] = "on" if data.get(f.name) else ""
            elif f.type != "file":
                self.values[f.name] = str(data.get(f.name, "")).strip()
        self.errors = {
            f.name: REQUIRED for f in self.fields if f.required and not self.values.get(f.name)
        }
        return self.values

    def refused(self, err: APIError) -> None:
        """Place the API's message by the field it names, or above the form."""
        if err.status == 404:
            raise NotFound(err.message)
        text = err.message.lower()
        for f in self.fields:
            names = [f.name, f.name.replace("_", " "), *f.words]
            if any(re.search(rf"\b{re.escape(n.lower())}\b", text) for n in names):
                self.errors[f.name] = err.message
                return
        self.error = err.message

    def render(
        self,
        ctx: Ctx,
        status: int = 200,
        template: str = "project/storage_form.html",
        **extra: Any,
    ) -> Response:
        if status == 200 and (self.errors or self.error):
            status = 400
        return ctx.render(template, status=status, form=self, **extra)


def integer(value: str) -> int | str:
    """The number a field holds, or the text as typed (the API judges it and says why)."""
    try:
        return int(value)
    except ValueError:
        return value


def next_marker(items: list[dict[str, Any]], links: list[dict[str, Any]] | None) -> str:
    more = any(link.get("rel") == "next" for link in links or [])
    return str(items[-1]["id"]) if items and more else ""
