"""``validate?show_nested=true``: the parameters of the nested stacks a template would make
(Heat's ``Stack.get_nested_parameters``): for each resource whose type is a template of the
client's ``files``, that template's parameters, the values the resource's properties give
them, and (recursively) its own nested stacks' parameters."""

from __future__ import annotations

from typing import Any

from onestack.common import errors
from onestack.orchestration.resources.stacks import MAX_DEPTH
from onestack.orchestration.template import functions, hot, parameters


def nested_parameters(
    tmpl: hot.Template, values: dict[str, Any], files: dict[str, Any], trail: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``{"NestedParameters": {resource: {...}}}``, or ``{}`` when no resource is a nested
    template (Heat leaves the key out then)."""
    found: dict[str, Any] = {}
    if len(trail) >= MAX_DEPTH:
        return {}
    for name, rdef in tmpl.resources.items():
        raw = files.get(rdef.type) if isinstance(rdef.type, str) else None
        if raw is None or rdef.type in trail:
            continue
        child = hot.parse(raw, tmpl.registry)
        given = _given(tmpl, values, rdef)
        shown: dict[str, Any] = {}
        child_values: dict[str, Any] = {}
        for pname, param in child.parameters.items():
            shown[pname] = param.schema()
            if pname in given:
                shown[pname]["Value"] = child_values[pname] = given[pname]
            elif param.has_default:
                child_values[pname] = parameters.coerce(param, param.default)
        entry: dict[str, Any] = {
            "Type": rdef.type,
            "Description": child.description or "No description",
            "Parameters": shown,
        }
        if child.raw.get("parameter_groups"):
            entry["ParameterGroups"] = child.raw["parameter_groups"]
        entry.update(nested_parameters(child, child_values, files, (*trail, rdef.type)))
        found[name] = entry
    return {"NestedParameters": found} if found else {}


def _given(tmpl: hot.Template, values: dict[str, Any], rdef: hot.ResourceDef) -> dict[str, Any]:
    """The resource's properties that resolve from parameters alone (a ``get_attr`` of
    another resource is not known before the stack exists: no value is shown for it)."""
    scope = hot._CondScope(tmpl, values)
    out: dict[str, Any] = {}
    for key, snippet in rdef.properties.items():
        try:
            out[key] = functions.evaluate(snippet, tmpl.functions, scope, key)
        except errors.OneStackError:
            continue
    return out
