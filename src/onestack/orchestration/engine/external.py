"""A resource's ``external_id`` (Heat's external references): the stack takes a resource
made elsewhere as its own without making it, a reference to it is that id, and the stack's
delete leaves it (Retain); an update may not give a resource an external id, change it or
take it away (Heat: not supported)."""

from __future__ import annotations

from typing import Any

from onestack.orchestration.engine.scope import Made, StackScope
from onestack.orchestration.errors import ResourceFailure
from onestack.orchestration.models import Resource
from onestack.orchestration.store import Store
from onestack.orchestration.template import functions, hot

KEY = "__external_id"


def _wanted(rdef: hot.ResourceDef, tmpl: hot.Template, scope: StackScope) -> str | None:
    if rdef.external_id is None:
        return None
    path = f"resources.{rdef.name}.external_id"
    return str(functions.evaluate(rdef.external_id, tmpl.functions, scope, path))


async def take(
    store: Store, row: Resource, rdef: hot.ResourceDef, tmpl: hot.Template, scope: StackScope
) -> bool:
    """Record the external resource as made (True), or False for a resource to create."""
    found = _wanted(rdef, tmpl, scope)
    if found is None:
        return False
    data = {**(row.data or {}), KEY: found, "__deletion_policy": "Retain"}
    await store.resource_state(
        row.id, "CREATE", "COMPLETE", "state changed", physical_resource_id=found, data=data
    )
    scope.made[rdef.name] = Made(found, {})
    return True


async def kept(
    store: Store, row: Resource, rdef: hot.ResourceDef, tmpl: hot.Template, scope: StackScope
) -> bool:
    """An update of a made resource: True when it is external and stays so (nothing to
    do); a changed external id fails the resource's update."""
    before: Any = (row.data or {}).get(KEY)
    after = _wanted(rdef, tmpl, scope)
    if before is None and after is None:
        return False
    if before != after:
        text = (
            f"NotSupported: resources.{row.name}: Update to property external_id of "
            f"{row.name} ({rdef.type}) is not supported."
        )
        await store.resource_state(row.id, "UPDATE", "FAILED", text)
        raise ResourceFailure(text)
    scope.made[rdef.name] = Made(before, {})
    return True
