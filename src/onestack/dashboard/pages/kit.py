"""What the admin, identity and API access pages share: forms described as fields (one
template renders them, the API's message beside the field it names), confirmations, tables
described as columns and cells, and the paging marker of a list."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData
from starlette.responses import Response

from onestack.dashboard.client import APIError
from onestack.dashboard.web import Ctx


@dataclass
class Field:
    name: str
    label: str
    type: str = "text"  # text, number, email, password, checkbox, select, textarea, date
    value: str = ""
    required: bool = False
    help: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    multiple: bool = False
    values: list[str] = field(default_factory=list)  # a multiple select's chosen values

    @property
    def checked(self) -> bool:
        return self.value in ("on", "true", "1", "True")


class FormError(Exception):
    """A form refused before or by the API: the message, and the field it concerns ('')."""

    def __init__(self, message: str, name: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.name = name


@dataclass
class Form:
    title: str
    fields: list[Field]
    button: str
    cancel: str
    intro: str = ""

    def fill(self, data: FormData) -> dict[str, str]:
        """Keep what was sent in the fields (re-rendered as sent) and return it."""
        values: dict[str, str] = {}
        for f in self.fields:
            if f.multiple:
                f.values = [str(v) for v in data.getlist(f.name)]
                values[f.name] = ",".join(f.values)
                continue
            f.value = str(data.get(f.name, "")).strip() if f.type != "password" else ""
            if f.type == "password":
                values[f.name] = str(data.get(f.name, ""))
            else:
                values[f.name] = f.value
        return values

    def check_required(self, values: dict[str, str]) -> None:
        for f in self.fields:
            if f.required and not values.get(f.name):
                raise FormError("This field is required.", f.name)

    def render(self, ctx: Ctx, error: FormError | None = None, status: int = 200) -> Response:
        errors: dict[str, str] = {}
        general = ""
        if error is not None:
            name = error.name or _field_named(error.message, self.fields)
            if name:
                errors[name] = error.message
            else:
                general = error.message
            status = 400
        return ctx.render(
            "admin/form.html",
            status=status,
            title=self.title,
            form=self,
            errors=errors,
            general=general,
            action=ctx.request.url.path,
        )


def _field_named(message: str, fields: list[Field]) -> str:
    """The field an API message speaks of (by its name or its label), '' for none."""
    low = message.lower()
    for f in fields:
        if f.type == "hidden":
            continue
        for word in (f.name.lower(), f.label.lower()):
            if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", low):
                return f.name
    return ""


def api_error(exc: APIError) -> FormError:
    """An API refusal shown on the form; 401/403/404 keep their pages."""
    if exc.status in (403, 404):
        raise exc
    return FormError(exc.message)


def integer(values: dict[str, str], name: str, minimum: int = 0) -> int:
    try:
        number = int(values.get(name, "") or "0")
    except ValueError:
        raise FormError("Enter a whole number.", name) from None
    if number < minimum:
        raise FormError(f"Ensure this value is greater than or equal to {minimum}.", name)
    return number


def confirm(ctx: Ctx, title: str, question: str, cancel: str, button: str) -> Response:
    return ctx.render(
        "confirm.html",
        title=title,
        question=question,
        action=ctx.request.url.path,
        cancel=ctx.url(cancel),
        button=button,
    )


def next_marker(items: list[dict[str, Any]], links: list[dict[str, Any]] | None, size: int) -> str:
    """The marker of the next page: from the API's ``next`` link, or a full page (Glance and
    Neutron without links), else ''."""
    if not items:
        return ""
    if links is not None:
        more = any(link.get("rel") == "next" for link in links)
    else:
        more = len(items) >= size
    return str(items[-1]["id"]) if more else ""


def checkbox(values: dict[str, str], name: str) -> bool:
    return values.get(name, "") in ("on", "true", "1")


def cell(text: Any, href: str = "") -> dict[str, str]:
    return {"text": "" if text is None else str(text), "href": href}


def action(
    label: str, href: str, *, post: bool = False, danger: bool = False, **fields: str
) -> dict[str, Any]:
    """A row's button: a link (to a form or a confirmation) or a small POST form."""
    return {"label": label, "href": href, "post": post, "danger": danger, "fields": fields}


def row(
    ident: str, cells: list[dict[str, str]], actions: list[dict[str, Any]] | None = None,
    busy: bool = False,
) -> dict[str, Any]:  # fmt: skip
    made: dict[str, Any] = {"id": ident, "cells": cells, "busy": busy}
    if actions is not None:
        made["actions"] = actions
    return made
