"""Tables described as columns and cells (templates admin/table.html and rows.html)."""

from __future__ import annotations

from typing import Any


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
