"""What the parts of a resource's definition besides its properties mean now: its
``update_policy`` and its ``metadata`` (Heat's ``rsrc_metadata``), resolved in the stack's
scope."""

from __future__ import annotations

from typing import Any

from onestack.common import errors
from onestack.orchestration.engine.graph import evaluate_off_loop
from onestack.orchestration.engine.scope import StackScope
from onestack.orchestration.errors import ResourceFailure
from onestack.orchestration.template import functions, hot


def update_policy(rdef: hot.ResourceDef, tmpl: hot.Template, scope: StackScope) -> Any:
    """The resource's update_policy as its template means it now (None when it has none, or
    when it cannot be known yet: the group that reads it says why)."""
    if rdef.update_policy is None:
        return None
    try:
        return functions.evaluate(
            rdef.update_policy, tmpl.functions, scope, f"resources.{rdef.name}.update_policy"
        )
    except errors.OneStackError:
        return rdef.update_policy


async def metadata(rdef: hot.ResourceDef, tmpl: hot.Template, scope: StackScope) -> dict[str, Any]:
    """The template's ``metadata`` of the resource with its functions evaluated (Heat's
    ``self.t.metadata()``, written when the resource leaves INIT)."""
    if not rdef.metadata:
        return {}
    path = f"resources.{rdef.name}.metadata"
    found = await evaluate_off_loop(rdef.metadata, tmpl.functions, scope, path)
    if not isinstance(found, dict):
        raise ResourceFailure(f"Resource {rdef.name} metadata type must be object")
    return found
