"""Gnocchi v1 JSON shapes (``jsonify`` of gnocchi/indexer/sqlalchemy_base.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onestack.metering import models
from onestack.metering.archive import Policy
from onestack.metering.service.base import split_creator


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat() + "+00:00"


def resource_view(
    row: models.Resource,
    metrics: dict[str, str] | None,
    revision_end: datetime | None = None,
) -> dict[str, Any]:
    user, project = split_creator(row.creator)
    view: dict[str, Any] = {
        "id": row.id,
        "type": row.type,
        "original_resource_id": row.original_resource_id,
        "project_id": row.project_id,
        "user_id": row.user_id,
        "creator": row.creator,
        "created_by_user_id": user,
        "created_by_project_id": project,
        "started_at": iso(row.started_at),
        "ended_at": iso(row.ended_at),
        "revision_start": iso(row.revision_start),
        "revision_end": iso(revision_end),
        **row.attributes,
    }
    if metrics is not None:
        view["metrics"] = metrics
    return view


def metric_view(
    row: models.Metric,
    policy: Policy | None,
    resource: dict[str, Any] | bool | None = False,
) -> dict[str, Any]:
    """``resource`` False: the list shape (``resource_id``); a dict or None: the detail."""
    user, project = split_creator(row.creator)
    view: dict[str, Any] = {
        "id": row.id,
        "creator": row.creator,
        "name": row.name,
        "unit": row.unit,
        "created_by_user_id": user,
        "created_by_project_id": project,
    }
    if resource is False:
        view["resource_id"] = row.resource_id
    else:
        view["resource"] = resource
    if policy is None:
        view["archive_policy_name"] = row.archive_policy_name
    else:
        view["archive_policy"] = policy.jsonify()
    return view


def rule_view(row: models.ArchivePolicyRule) -> dict[str, Any]:
    return {
        "name": row.name,
        "metric_pattern": row.metric_pattern,
        "archive_policy_name": row.archive_policy_name,
    }


def resource_type_view(row: models.ResourceType) -> dict[str, Any]:
    return {"name": row.name, "attributes": row.attributes, "state": row.state}
