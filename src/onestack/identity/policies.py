"""Identity policy rules, with Keystone's defaults (admin; system, domain and project readers)."""

from __future__ import annotations

from onestack.common.policy import RuleDefault

ADMIN = "rule:admin_required"
ADMIN_OR_SYSTEM_READER = f"{ADMIN} or (role:reader and system_scope:all)"
ADMIN_OR_READER_OF_DOMAIN = (
    f"{ADMIN_OR_SYSTEM_READER} or (role:reader and domain_id:%(target.domain_id)s)"
)
TOKEN_SUBJECT = "user_id:%(target.token.user_id)s"
SCOPES = ("system", "domain", "project")


def _rule(name: str, check: str, description: str) -> RuleDefault:
    return RuleDefault(f"identity:{name}", check, description, SCOPES)


def _crud(kind: str, read: str, write: str, plural: str | None = None) -> list[RuleDefault]:
    plural = plural or f"{kind}s"
    return [
        _rule(f"get_{kind}", read, f"Show a {kind}."),
        _rule(f"list_{plural}", read, f"List {plural}."),
        _rule(f"create_{kind}", write, f"Create a {kind}."),
        _rule(f"update_{kind}", write, f"Update a {kind}."),
        _rule(f"delete_{kind}", write, f"Delete a {kind}."),
    ]


DOMAIN_ADMIN_OF_USER = f"{ADMIN} or (role:admin and domain_id:%(target.user.domain_id)s)"
DOMAIN_ADMIN_OF_PROJECT = f"{ADMIN} or (role:admin and domain_id:%(target.project.domain_id)s)"
DOMAIN_ADMIN_OF_GROUP = f"{ADMIN} or (role:admin and domain_id:%(target.group.domain_id)s)"
GRANT_READER = (
    f"{ADMIN_OR_SYSTEM_READER} or (role:reader and domain_id:%(target.domain.id)s)"
    " or (role:reader and domain_id:%(target.project.domain_id)s)"
)
GRANT_WRITER = (
    f"{ADMIN} or (role:admin and domain_id:%(target.domain.id)s)"
    " or (role:admin and domain_id:%(target.project.domain_id)s)"
)
CREDENTIAL_OWNER = "user_id:%(target.credential.user_id)s"
TRUSTOR = "user_id:%(target.trust.trustor_user_id)s"
TRUSTEE = "user_id:%(target.trust.trustee_user_id)s"
TRUST_PARTY = f"{ADMIN_OR_SYSTEM_READER} or {TRUSTOR} or {TRUSTEE}"

RULES: list[RuleDefault] = [
    # domains
    _rule(
        "get_domain",
        f"{ADMIN_OR_SYSTEM_READER} or token.domain.id:%(target.domain.id)s"
        " or token.project.domain.id:%(target.domain.id)s",
        "Show a domain.",
    ),
    _rule("list_domains", ADMIN_OR_SYSTEM_READER, "List domains."),
    _rule("create_domain", ADMIN, "Create a domain."),
    _rule("update_domain", ADMIN, "Update a domain."),
    _rule("delete_domain", ADMIN, "Delete a domain."),
    # projects
    _rule(
        "get_project",
        f"{ADMIN_OR_SYSTEM_READER} or (role:reader and domain_id:%(target.project.domain_id)s)"
        " or project_id:%(target.project.id)s",
        "Show a project.",
    ),
    _rule("list_projects", ADMIN_OR_READER_OF_DOMAIN, "List projects."),
    _rule(
        "list_user_projects",
        f"{ADMIN_OR_SYSTEM_READER} or (role:reader and domain_id:%(target.user.domain_id)s)"
        " or user_id:%(target.user.id)s",
        "List the projects a user has roles on.",
    ),
    _rule("create_project", DOMAIN_ADMIN_OF_PROJECT, "Create a project."),
    _rule("update_project", DOMAIN_ADMIN_OF_PROJECT, "Update a project."),
    _rule("delete_project", DOMAIN_ADMIN_OF_PROJECT, "Delete a project."),
    _rule(
        "update_project_tags",
        f"{DOMAIN_ADMIN_OF_PROJECT} or (role:admin and project_id:%(target.project.id)s)",
        "Change a project's tags.",
    ),
    # users
    _rule(
        "get_user",
        f"{ADMIN_OR_SYSTEM_READER} or (role:reader and domain_id:%(target.user.domain_id)s)"
        " or user_id:%(target.user.id)s",
        "Show a user.",
    ),
    _rule("list_users", ADMIN_OR_READER_OF_DOMAIN, "List users."),
    _rule("create_user", DOMAIN_ADMIN_OF_USER, "Create a user."),
    _rule("update_user", DOMAIN_ADMIN_OF_USER, "Update a user."),
    _rule("delete_user", DOMAIN_ADMIN_OF_USER, "Delete a user."),
    # groups
    _rule(
        "get_group",
        f"{ADMIN_OR_SYSTEM_READER} or (role:reader and domain_id:%(target.group.domain_id)s)",
        "Show a group.",
    ),
    _rule("list_groups", ADMIN_OR_READER_OF_DOMAIN, "List groups."),
    _rule(
        "list_groups_for_user",
        f"{ADMIN_OR_SYSTEM_READER} or (role:reader and domain_id:%(target.user.domain_id)s)"
        " or user_id:%(user_id)s",
        "List the groups a user belongs to.",
    ),
    _rule("create_group", DOMAIN_ADMIN_OF_GROUP, "Create a group."),
    _rule("update_group", DOMAIN_ADMIN_OF_GROUP, "Update a group."),
    _rule("delete_group", DOMAIN_ADMIN_OF_GROUP, "Delete a group."),
    _rule(
        "list_users_in_group",
        f"{ADMIN_OR_SYSTEM_READER} or (role:reader and domain_id:%(target.group.domain_id)s)",
        "List a group's members.",
    ),
    _rule(
        "check_user_in_group",
        f"{ADMIN_OR_SYSTEM_READER} or (role:reader and domain_id:%(target.group.domain_id)s)",
        "Check that a user is a member of a group.",
    ),
    _rule("add_user_to_group", DOMAIN_ADMIN_OF_GROUP, "Add a user to a group."),
    _rule("remove_user_from_group", DOMAIN_ADMIN_OF_GROUP, "Remove a user from a group."),
    # roles and implied roles
    *_crud("role", ADMIN_OR_READER_OF_DOMAIN, ADMIN),
    _rule("get_implied_role", ADMIN_OR_SYSTEM_READER, "Show a role inference rule."),
    _rule("list_implied_roles", ADMIN_OR_SYSTEM_READER, "List the roles a role implies."),
    _rule("list_role_inference_rules", ADMIN_OR_SYSTEM_READER, "List all inference rules."),
    _rule("create_implied_role", ADMIN, "Make a role imply another."),
    _rule("delete_implied_role", ADMIN, "Remove a role inference rule."),
    # grants and assignments
    _rule("check_grant", GRANT_READER, "Check a role grant on a project or domain."),
    _rule("list_grants", GRANT_READER, "List the role grants on a project or domain."),
    _rule("create_grant", GRANT_WRITER, "Grant a role on a project or domain."),
    _rule("revoke_grant", GRANT_WRITER, "Revoke a role grant on a project or domain."),
    _rule("list_system_grants", ADMIN_OR_SYSTEM_READER, "List system role grants."),
    _rule("check_system_grant", ADMIN_OR_SYSTEM_READER, "Check a system role grant."),
    _rule("create_system_grant", ADMIN, "Grant a role on the system."),
    _rule("revoke_system_grant", ADMIN, "Revoke a role on the system."),
    _rule("list_role_assignments", ADMIN_OR_READER_OF_DOMAIN, "List role assignments."),
    _rule(
        "list_role_assignments_for_tree",
        f"{ADMIN_OR_SYSTEM_READER} or (role:reader and domain_id:%(target.project.domain_id)s)"
        " or (role:admin and project_id:%(target.project.id)s)",
        "List role assignments on a project and its subtree.",
    ),
    # catalog
    *_crud("service", ADMIN_OR_SYSTEM_READER, ADMIN),
    *_crud("endpoint", ADMIN_OR_SYSTEM_READER, ADMIN),
    _rule("get_region", "", "Show a region."),
    _rule("list_regions", "", "List regions."),
    _rule("create_region", ADMIN, "Create a region."),
    _rule("update_region", ADMIN, "Update a region."),
    _rule("delete_region", ADMIN, "Delete a region."),
    # application credentials: only their owner creates them
    _rule(
        "get_application_credential",
        f"{ADMIN_OR_SYSTEM_READER} or user_id:%(target.user.id)s",
        "Show an application credential.",
    ),
    _rule(
        "list_application_credentials",
        f"{ADMIN_OR_SYSTEM_READER} or user_id:%(target.user.id)s",
        "List a user's application credentials.",
    ),
    _rule("create_application_credential", "user_id:%(user_id)s", "Create an app credential."),
    _rule(
        "delete_application_credential",
        f"{ADMIN} or user_id:%(target.user.id)s",
        "Delete an application credential.",
    ),
    _rule(
        "list_access_rules",
        f"{ADMIN_OR_SYSTEM_READER} or user_id:%(target.user.id)s",
        "List a user's access rules.",
    ),
    _rule(
        "get_access_rule",
        f"{ADMIN_OR_SYSTEM_READER} or user_id:%(target.user.id)s",
        "Show an access rule.",
    ),
    _rule(
        "delete_access_rule",
        f"{ADMIN} or user_id:%(target.user.id)s",
        "Delete an access rule no application credential uses.",
    ),
    # policy blobs (Keystone's deprecated /v3/policies)
    *_crud("policy", ADMIN_OR_SYSTEM_READER, ADMIN, plural="policies"),
    # credentials (EC2 and others)
    _rule("get_credential", f"{ADMIN_OR_SYSTEM_READER} or {CREDENTIAL_OWNER}", "Show one."),
    _rule("list_credentials", f"{ADMIN_OR_SYSTEM_READER} or {CREDENTIAL_OWNER}", "List them."),
    _rule("create_credential", f"{ADMIN} or {CREDENTIAL_OWNER}", "Create a credential."),
    _rule("update_credential", f"{ADMIN} or {CREDENTIAL_OWNER}", "Update a credential."),
    _rule("delete_credential", f"{ADMIN} or {CREDENTIAL_OWNER}", "Delete a credential."),
    # tokens
    _rule(
        "validate_token",
        f"{ADMIN_OR_SYSTEM_READER} or rule:service_role or {TOKEN_SUBJECT}",
        "Validate a token.",
    ),
    _rule("revoke_token", f"{ADMIN} or rule:service_role or {TOKEN_SUBJECT}", "Revoke a token."),
    # endpoint groups and project endpoint filters (OS-EP-FILTER)
    *_crud("endpoint_group", ADMIN_OR_SYSTEM_READER, ADMIN),
    _rule("list_projects_associated_with_endpoint_group", ADMIN_OR_SYSTEM_READER, "Projects."),
    _rule("list_endpoints_associated_with_endpoint_group", ADMIN_OR_SYSTEM_READER, "Endpoints."),
    _rule("get_endpoint_group_in_project", ADMIN_OR_SYSTEM_READER, "Check a project's group."),
    _rule("list_endpoint_groups_for_project", ADMIN_OR_SYSTEM_READER, "A project's groups."),
    _rule("add_endpoint_group_to_project", ADMIN, "Narrow a project to a group."),
    _rule("remove_endpoint_group_from_project", ADMIN, "Remove a project's group."),
    _rule("list_projects_for_endpoint", ADMIN_OR_SYSTEM_READER, "An endpoint's projects."),
    _rule("add_endpoint_to_project", ADMIN, "Narrow a project to an endpoint."),
    _rule("check_endpoint_in_project", ADMIN_OR_SYSTEM_READER, "Check a project's endpoint."),
    _rule("list_endpoints_for_project", ADMIN_OR_SYSTEM_READER, "A project's endpoints."),
    _rule("remove_endpoint_from_project", ADMIN, "Remove a project's endpoint."),
    # domain-specific configuration
    _rule("create_domain_config", ADMIN, "Create a domain's configuration."),
    _rule("get_domain_config", ADMIN_OR_SYSTEM_READER, "Show a domain's configuration."),
    _rule("update_domain_config", ADMIN, "Update a domain's configuration."),
    _rule("delete_domain_config", ADMIN, "Delete a domain's configuration."),
    _rule("get_domain_config_default", ADMIN_OR_SYSTEM_READER, "Show the defaults."),
    _rule("get_security_compliance_domain_config", "", "Show the password rules."),
    # OAuth1 consumers
    _rule("get_consumer", ADMIN_OR_SYSTEM_READER, "Show an OAuth1 consumer."),
    _rule("list_consumers", ADMIN_OR_SYSTEM_READER, "List OAuth1 consumers."),
    _rule("create_consumer", ADMIN, "Create an OAuth1 consumer."),
    _rule("update_consumer", ADMIN, "Update an OAuth1 consumer."),
    _rule("delete_consumer", ADMIN, "Delete an OAuth1 consumer."),
    _rule("authorize_request_token", ADMIN, "Authorize an OAuth1 request token."),
    _rule("get_access_token", ADMIN, "Show a user's OAuth1 access token."),
    _rule("get_access_token_role", ADMIN, "Show a role of a user's OAuth1 access token."),
    _rule("list_access_tokens", ADMIN, "List a user's OAuth1 access tokens."),
    _rule("list_access_token_roles", ADMIN, "List the roles of an OAuth1 access token."),
    _rule("delete_access_token", ADMIN, "Delete (revoke) an OAuth1 access token."),
    # unified limits
    _rule("get_registered_limit", "", "Show a registered limit."),
    _rule("list_registered_limits", "", "List registered limits."),
    _rule("create_registered_limits", ADMIN, "Create registered limits."),
    _rule("update_registered_limit", ADMIN, "Update a registered limit."),
    _rule("delete_registered_limit", ADMIN, "Delete a registered limit."),
    _rule("get_limit_model", "", "Show the limit enforcement model."),
    _rule(
        "get_limit",
        f"{ADMIN} or (role:reader and system_scope:all)"
        " or domain_id:%(target.limit.domain.id)s"
        " or domain_id:%(target.limit.project.domain_id)s"
        " or (project_id:%(target.limit.project_id)s and not None:%(target.limit.project_id)s)",
        "Show a limit.",
    ),
    _rule("list_limits", "", "List limits (a caller's own, unless admin)."),
    _rule("create_limits", ADMIN, "Create limits."),
    _rule("update_limit", ADMIN, "Update a limit."),
    _rule("delete_limit", ADMIN, "Delete a limit."),
    # federation (OS-FEDERATION)
    *_crud("identity_provider", ADMIN_OR_SYSTEM_READER, ADMIN),
    *_crud("mapping", ADMIN_OR_SYSTEM_READER, ADMIN),
    *_crud("protocol", ADMIN_OR_SYSTEM_READER, ADMIN),
    *_crud("service_provider", ADMIN_OR_SYSTEM_READER, ADMIN),
    # trusts (OS-TRUST)
    _rule("create_trust", "user_id:%(trust.trustor_user_id)s", "Create a trust."),
    _rule("list_trusts", ADMIN_OR_SYSTEM_READER, "List every trust."),
    _rule("list_trusts_for_trustor", f"{ADMIN_OR_SYSTEM_READER} or {TRUSTOR}", "By trustor."),
    _rule("list_trusts_for_trustee", f"{ADMIN_OR_SYSTEM_READER} or {TRUSTEE}", "By trustee."),
    _rule("get_trust", TRUST_PARTY, "Show a trust."),
    _rule("list_roles_for_trust", TRUST_PARTY, "List the roles a trust delegates."),
    _rule("get_role_for_trust", TRUST_PARTY, "Check that a trust delegates a role."),
    _rule("delete_trust", f"{ADMIN} or {TRUSTOR}", "Delete (revoke) a trust."),
]
