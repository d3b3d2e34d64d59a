"""Heat's response shapes: stacks, resources, events, with their links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onestack.orchestration.engine.scope import OUTPUT_ERRORS
from onestack.orchestration.models import Event, Resource, Stack
from onestack.orchestration.store import STACK_TYPE
from onestack.orchestration.template import hot


def when(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def stack_url(base: str, stack: Stack) -> str:
    return f"{base}/stacks/{stack.name}/{stack.id}"


def _description(stack: Stack) -> str:
    # Heat's template object answers this default for a template without one.
    found = stack.template.get("description", stack.template.get("Description"))
    return "No description" if found is None else str(found)


def stack_summary(base: str, stack: Stack) -> dict[str, Any]:
    return {
        "id": stack.id,
        "stack_name": stack.name,
        "description": _description(stack),
        "stack_status": f"{stack.action}_{stack.status}",
        "stack_status_reason": stack.status_reason,
        "creation_time": when(stack.created_at),
        "updated_time": when(stack.updated_at),
        "deletion_time": when(stack.deleted_at),
        "stack_owner": stack.username or None,
        "parent": stack.owner_id,
        "stack_user_project_id": stack.project_id,
        "tags": stack.tags,
        "project": stack.project_id,
        "links": [{"href": stack_url(base, stack), "rel": "self"}],
    }


def stack_detail(base: str, stack: Stack, outputs: list[dict[str, Any]] | None) -> dict[str, Any]:
    tmpl = hot.parse(stack.template)
    params = {
        name: ("******" if tmpl.parameters[name].hidden else _text(value))
        for name, value in stack.parameters.items()
        if name in tmpl.parameters
    }
    params.update(
        {"OS::stack_id": stack.id, "OS::stack_name": stack.name, "OS::project_id": stack.project_id}
    )
    out = {
        **stack_summary(base, stack),
        "capabilities": [],
        "disable_rollback": stack.disable_rollback,
        "notification_topics": [],
        "parameters": params,
        "template_description": _description(stack),
        "timeout_mins": stack.timeout_mins,
    }
    if outputs is not None:
        out["outputs"] = outputs
    return out


def _text(value: Any) -> str:
    """Heat shows parameter values as strings."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        import json

        return json.dumps(value)
    return str(value)


def resource(
    base: str,
    stack: Stack,
    row: Resource,
    required_by: list[str],
    detail: bool = False,
    nested: str | None = None,
    parent_resource: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``nested``: the URL of the nested stack the resource owns; ``metadata``: what the
    detail shows as its metadata (Heat's ``metadata_get``)."""
    url = stack_url(base, stack)
    out: dict[str, Any] = {
        "resource_name": row.name,
        "logical_resource_id": row.name,
        "physical_resource_id": row.physical_resource_id or "",
        "resource_type": row.type,
        "resource_status": f"{row.action}_{row.status}",
        "resource_status_reason": row.status_reason,
        "creation_time": when(row.created_at),
        "updated_time": when(row.updated_at or row.created_at),
        "required_by": required_by,
        "links": [
            {"href": f"{url}/resources/{row.name}", "rel": "self"},
            {"href": url, "rel": "stack"},
        ],
    }
    if nested:
        out["links"].append({"href": nested, "rel": "nested"})
    if parent_resource:
        out["parent_resource"] = parent_resource
    if detail:
        shown = {k: v for k, v in row.attributes.items() if k != OUTPUT_ERRORS}
        out["attributes"] = {**shown, "show": shown}
        out["description"] = ""
        out["metadata"] = metadata or {}
    return out


def event(base: str, stack: Stack, row: Event, detail: bool = False) -> dict[str, Any]:
    url = stack_url(base, stack)
    res = stack.name if row.resource_type == STACK_TYPE else row.resource_name
    out: dict[str, Any] = {
        "id": row.id,
        "event_time": row.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "resource_name": row.resource_name,
        "logical_resource_id": row.resource_name,
        "physical_resource_id": row.physical_resource_id,
        "resource_status": f"{row.action}_{row.status}",
        "resource_status_reason": row.reason,
        "links": [
            {"href": f"{url}/resources/{res}/events/{row.id}", "rel": "self"},
            {"href": f"{url}/resources/{res}", "rel": "resource"},
            {"href": url, "rel": "stack"},
        ],
    }
    if detail:
        out["resource_type"] = row.resource_type
        out["resource_properties"] = row.properties
    return out
