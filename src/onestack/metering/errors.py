"""Gnocchi's error body and messages: ``{"code": 404, "description": "...", "title": ...}``
(the client matches on the description)."""

from __future__ import annotations

from typing import Any, TypeVar

from onestack.common import errors


def gnocchi_body(err: errors.OneStackError) -> dict[str, Any]:
    description = getattr(err, "description", None) or err.message
    return {"code": err.code, "description": description, "title": err.title}


E = TypeVar("E", bound=errors.OneStackError)


def described(err: E, description: Any) -> E:
    """``err`` with a structured description (``{"cause": ..., "detail": [...]}``)."""
    setattr(err, "description", description)  # noqa: B010 - errors carry no such slot
    return err


class MetricNotFound(errors.NotFound):
    template = "Metric {id} does not exist"


class ResourceNotFound(errors.NotFound):
    template = "Resource {id} does not exist"


class ArchivePolicyNotFound(errors.NotFound):
    template = "Archive policy {id} does not exist"


class ArchivePolicyRuleNotFound(errors.NotFound):
    template = "Archive policy rule {id} does not exist"


class ResourceTypeNotFound(errors.NotFound):
    template = "Resource type {id} does not exist"


class AggregationNotFound(errors.NotFound):
    template = "Aggregation method '{method}' at granularity '{granularity}' for metric {id} does not exist"  # noqa: E501


class NamedMetricExists(errors.Conflict):
    template = "Named metric {name} already exists"


class ResourceExists(errors.Conflict):
    template = "Resource {id} already exists"


class ArchivePolicyExists(errors.Conflict):
    template = "Archive policy {name} already exists"


class ArchivePolicyRuleExists(errors.Conflict):
    template = "Archive policy rule {name} already exists"


class ResourceTypeExists(errors.Conflict):
    template = "Resource type {name} already exists"


class ArchivePolicyInUse(errors.BadRequest):
    template = "Archive policy {name} is still in use"


class ResourceTypeInUse(errors.BadRequest):
    template = "Resource type {name} is still in use"


class InvalidInput(errors.BadRequest):
    template = "Invalid input: {reason}"
