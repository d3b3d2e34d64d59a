"""Heat's policy defaults (``heat/policies/*.py``), names as Heat's."""

from __future__ import annotations

from onestack.common.policy import RuleDefault

ADMIN = "role:admin"
READER = "role:reader and project_id:%(project_id)s"
MEMBER = "role:member and project_id:%(project_id)s"
ADMIN_OR_READER = f"{ADMIN} or ({READER})"
ADMIN_OR_MEMBER = f"{ADMIN} or ({MEMBER})"
ANYONE = ""


def _r(name: str, check: str, description: str) -> RuleDefault:
    return RuleDefault(name, check, description, ("project", "system"))


RULES: tuple[RuleDefault, ...] = (
    _r("stacks:index", ADMIN_OR_READER, "List stacks."),
    _r("stacks:global_index", ADMIN, "List stacks globally."),
    _r("stacks:detail", ADMIN_OR_READER, "List stacks in detail."),
    _r("stacks:create", ADMIN_OR_MEMBER, "Create stack."),
    _r("stacks:lookup", ADMIN_OR_READER, "Find stack."),
    _r("stacks:show", ADMIN_OR_READER, "Show stack."),
    _r("stacks:delete", ADMIN_OR_MEMBER, "Delete stack."),
    _r("stacks:update", ADMIN_OR_MEMBER, "Update stack."),
    _r("stacks:update_patch", ADMIN_OR_MEMBER, "Update stack (PATCH)."),
    _r("stacks:template", ADMIN_OR_READER, "Get stack template."),
    _r("stacks:action", ADMIN_OR_MEMBER, "Performs non-lifecycle operations on the stack."),
    _r("stacks:environment", ADMIN_OR_READER, "Get stack environment."),
    _r("stacks:files", ADMIN_OR_READER, "Get stack files."),
    _r("stacks:validate_template", ADMIN_OR_MEMBER, "Validate template."),
    _r("stacks:list_resource_types", ADMIN_OR_READER, "List resource types."),
    _r("stacks:resource_schema", ADMIN_OR_READER, "Show resource type schema."),
    _r("stacks:generate_template", ADMIN_OR_MEMBER, "Generate stack template."),
    _r("stacks:list_template_versions", ADMIN_OR_READER, "List template versions."),
    _r("stacks:list_template_functions", ADMIN_OR_READER, "List template functions."),
    _r("stacks:list_outputs", ADMIN_OR_READER, "List outputs."),
    _r("stacks:show_output", ADMIN_OR_READER, "Show outputs."),
    _r("stacks:preview", ADMIN_OR_READER, "Preview stack."),
    _r("stacks:preview_update", ADMIN_OR_MEMBER, "Preview update stack."),
    _r("stacks:preview_update_patch", ADMIN_OR_MEMBER, "Preview update stack (PATCH)."),
    _r("stacks:abandon", ADMIN_OR_MEMBER, "Abandon stack."),
    _r("stacks:export", ADMIN_OR_MEMBER, "Export stack."),
    _r("stacks:snapshot", ADMIN_OR_MEMBER, "Snapshot Stack."),
    _r("stacks:show_snapshot", ADMIN_OR_READER, "Show snapshot."),
    _r("stacks:delete_snapshot", ADMIN_OR_MEMBER, "Delete snapshot."),
    _r("stacks:list_snapshots", ADMIN_OR_READER, "List snapshots."),
    _r("stacks:restore_snapshot", ADMIN_OR_MEMBER, "Restore snapshot."),
    _r("resource:mark_unhealthy", ADMIN_OR_MEMBER, "Mark resource as unhealthy."),
    _r("resource:index", ADMIN_OR_READER, "List resources."),
    _r("resource:show", ADMIN_OR_READER, "Show resource."),
    _r("resource:metadata", ADMIN_OR_READER, "Show resource metadata."),
    _r("resource:signal", ADMIN_OR_MEMBER, "Signal resource."),
    _r("events:index", ADMIN_OR_READER, "List events."),
    _r("events:show", ADMIN_OR_READER, "Show event."),
    _r("build_info:build_info", ADMIN_OR_READER, "Show build information."),
    _r("service:index", ADMIN, "Show the engines' services."),
    _r("software_configs:global_index", ADMIN, "List configs globally."),
    _r("software_configs:index", ADMIN_OR_READER, "List configs."),
    _r("software_configs:create", ADMIN_OR_MEMBER, "Create config."),
    _r("software_configs:show", ADMIN_OR_READER, "Show config details."),
    _r("software_configs:delete", ADMIN_OR_MEMBER, "Delete config."),
    _r("software_deployments:index", ADMIN_OR_READER, "List deployments."),
    _r("software_deployments:create", ADMIN_OR_MEMBER, "Create deployment."),
    _r("software_deployments:show", ADMIN_OR_READER, "Show deployment details."),
    _r("software_deployments:update", ADMIN_OR_MEMBER, "Update deployment."),
    _r("software_deployments:delete", ADMIN_OR_MEMBER, "Delete deployment."),
    _r("software_deployments:metadata", ADMIN_OR_READER, "Show server configuration metadata."),
    # Heat's resource_types:* rules: these types only an admin may put in a stack.
    _r("resource_types:OS::Nova::Flavor", ADMIN, "Create OS::Nova::Flavor resource."),
    _r("resource_types:OS::Keystone::Project", ADMIN, "Create OS::Keystone::Project."),
    _r("resource_types:OS::Keystone::User", ADMIN, "Create OS::Keystone::User resource."),
    _r("resource_types:OS::Keystone::Role", ADMIN, "Create OS::Keystone::Role resource."),
)
