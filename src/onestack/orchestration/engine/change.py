"""One resource's update by its plugin, once the engine has decided it changed: in place,
restored from a nested stack's snapshot, or replaced (a property that cannot change, or the
plugin's own ``Replace``)."""

from __future__ import annotations

from typing import Any

from onestack.orchestration.engine.graph import remove
from onestack.orchestration.models import Resource
from onestack.orchestration.resources.base import Context, Created, Plugin, Replace


async def apply_change(
    at: Context,
    plugin_cls: type[Plugin],
    row: Resource,
    old: dict[str, Any],
    new: dict[str, Any],
    *,
    same: bool,
    fixed: bool,
    nested_kept: Any,
) -> Created:
    """One resource's update by its plugin: in place, restored from a nested snapshot,
    or (a property that cannot change, or the plugin says so) replaced."""
    plugin = plugin_cls()
    physical_id = row.physical_resource_id or ""
    try:
        # A nested stack's snapshot: that stack restored from it too.
        restored = None
        if nested_kept is not None and not fixed:
            restored = await plugin.restore_nested(at, physical_id, nested_kept)
        if restored is not None:
            return Created(physical_id, {**row.attributes, **restored})
        if same and not plugin_cls.follows_definition:
            # Heat's handle_update keeps the new policy; nothing else changes
            return Created(physical_id, dict(row.attributes))
        if fixed:
            raise Replace()
        attributes = await plugin.update(at, physical_id, row.data, old, new)
        # What the plugin keeps for itself comes back under "__data".
        kept = attributes.pop("__data", None) or {}
        return Created(physical_id, {**row.attributes, **attributes}, kept)
    except Replace:
        made: Created = await plugin.create(at, new)
        if physical_id:  # the one replaced goes as its own deletion_policy says (Heat)
            await remove(plugin, at, physical_id, row)
        return made
