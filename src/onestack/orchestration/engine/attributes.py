"""Resource attributes brought up to date before a get_attr reads them."""

from __future__ import annotations

from collections.abc import Iterable

from onestack.common import errors
from onestack.orchestration.engine.graph import context_at
from onestack.orchestration.engine.scope import StackScope
from onestack.orchestration.resources import plugin_type
from onestack.orchestration.resources.base import Context
from onestack.orchestration.template import functions, hot


async def refresh(
    c: Context,
    tmpl: hot.Template,
    scope: StackScope,
    names: set[str],
    live: Iterable[functions.Ref] = (),
) -> None:
    """Bring the attributes of the resources ``names`` up to date, and those the get_attr
    references ``live`` read that are made each time they are read (``Plugin.live``)."""
    live = list(live)
    for name in names:
        made, rdef = scope.made.get(name), tmpl.resources.get(name)
        plugin = plugin_type(rdef.type) if rdef else None
        if made is None or not made.physical_id or plugin is None:
            continue
        at = context_at(c, name)
        asked = {(r.attr, r.key) for r in live if r.target == name}
        try:
            fresh = await plugin().refresh(at, made.physical_id, {})
            now = await plugin().live(at, made.physical_id, asked) if asked else {}
        except errors.NotFound:
            continue
        made.attributes = {**made.attributes, **(fresh or {}), **now}
