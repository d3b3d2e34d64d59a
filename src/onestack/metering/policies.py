"""Gnocchi's policy defaults (``gnocchi/rest/policies.py``), names as Gnocchi's so that an
operator's Gnocchi policy file applies as is.

Targets: a resource's ``project_id``, ``user_id``, ``created_by_project_id`` and
``created_by_user_id``; a metric's ``created_by_*`` and its resource's as ``resource.*``.
What a caller may see at all is decided by the service (404 otherwise)."""

from __future__ import annotations

from onestack.common.policy import RuleDefault

ADMIN = "role:admin"
ADMIN_OR_SERVICE = "role:admin or role:service"
CREATOR = "user_id:%(created_by_user_id)s or project_id:%(created_by_project_id)s"
RESOURCE_OWNER = "project_id:%(project_id)s"
METRIC_OWNER = "project_id:%(resource.project_id)s"
UNPROTECTED = ""
ADMIN_OR_CREATOR = "rule:admin_or_creator"
ADMIN_OR_SERVICE_OR_CREATOR = "rule:admin_or_service or rule:creator"
ADMIN_OR_CREATOR_OR_RESOURCE_OWNER = "rule:admin_or_creator or rule:resource_owner"
ADMIN_OR_SERVICE_OR_CREATOR_OR_RESOURCE_OWNER = (
    "rule:admin_or_service or rule:creator or rule:resource_owner"
)
ADMIN_OR_CREATOR_OR_METRIC_OWNER = "rule:admin_or_creator or rule:metric_owner"
ADMIN_OR_SERVICE_OR_CREATOR_OR_METRIC_OWNER = (
    "rule:admin_or_service or rule:creator or rule:metric_owner"
)


def _r(name: str, check: str, description: str) -> RuleDefault:
    return RuleDefault(name, check, description, ("project", "system"))


RULES: tuple[RuleDefault, ...] = (
    _r("admin_or_creator", f"{ADMIN} or {CREATOR}", "Admin, or the creator of the object."),
    _r("admin_or_service", ADMIN_OR_SERVICE, "Admin or a service user."),
    _r("creator", CREATOR, "The user or project that created the object."),
    _r("resource_owner", RESOURCE_OWNER, "The project a resource belongs to."),
    _r("metric_owner", METRIC_OWNER, "The project of the resource a metric belongs to."),
    _r("get status", ADMIN, "Show the processing status."),
    _r("create resource", UNPROTECTED, "Create a resource."),
    _r("get resource", ADMIN_OR_CREATOR_OR_RESOURCE_OWNER, "Show a resource."),
    _r("update resource", ADMIN_OR_SERVICE_OR_CREATOR, "Update a resource."),
    _r("delete resource", ADMIN_OR_CREATOR, "Delete a resource."),
    _r("delete resources", ADMIN_OR_CREATOR, "Delete resources in bulk."),
    _r("list resource", ADMIN_OR_CREATOR_OR_RESOURCE_OWNER, "List resources."),
    _r("search resource", ADMIN_OR_SERVICE_OR_CREATOR_OR_RESOURCE_OWNER, "Search resources."),
    _r("create resource type", ADMIN_OR_SERVICE, "Create a resource type."),
    _r("get resource type", UNPROTECTED, "Show a resource type."),
    _r("update resource type", ADMIN_OR_SERVICE, "Update a resource type."),
    _r("delete resource type", ADMIN, "Delete a resource type."),
    _r("list resource type", UNPROTECTED, "List resource types."),
    _r("create archive policy", ADMIN_OR_SERVICE, "Create an archive policy."),
    _r("get archive policy", UNPROTECTED, "Show an archive policy."),
    _r("update archive policy", ADMIN, "Update an archive policy."),
    _r("delete archive policy", ADMIN, "Delete an archive policy."),
    _r("list archive policy", UNPROTECTED, "List archive policies."),
    _r("create archive policy rule", ADMIN, "Create an archive policy rule."),
    _r("get archive policy rule", UNPROTECTED, "Show an archive policy rule."),
    _r("update archive policy rule", ADMIN, "Rename an archive policy rule."),
    _r("delete archive policy rule", ADMIN, "Delete an archive policy rule."),
    _r("list archive policy rule", UNPROTECTED, "List archive policy rules."),
    _r("create metric", UNPROTECTED, "Create a metric."),
    _r("get metric", ADMIN_OR_SERVICE_OR_CREATOR_OR_METRIC_OWNER, "Show a metric."),
    _r("delete metric", ADMIN_OR_CREATOR, "Delete a metric."),
    _r("list metric", ADMIN_OR_CREATOR_OR_METRIC_OWNER, "List metrics."),
    _r("search metric", ADMIN_OR_CREATOR_OR_METRIC_OWNER, "Search metrics."),
    _r("post measures", ADMIN_OR_SERVICE_OR_CREATOR, "Post measures to a metric."),
    _r("get measures", ADMIN_OR_SERVICE_OR_CREATOR_OR_METRIC_OWNER, "Read a metric's measures."),
    _r("list all metric", ADMIN, "List every project's metrics."),
)
