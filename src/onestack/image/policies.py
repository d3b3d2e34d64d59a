"""Glance's policy defaults, one rule per action (``glance/policies``), names unprefixed as
in Glance so an operator's Glance policy file applies as is.

Targets carry the image's ``project_id`` (its owner), ``visibility`` and ``member_id`` (the
caller's project when it is a member of the image). Which images a caller can see at all is
decided by the service layer (404 otherwise), as in Glance's database layer.
"""

from __future__ import annotations

from onestack.common.policy import RuleDefault

PROJECT_MEMBER = "role:member and project_id:%(project_id)s"
PROJECT_READER = "role:reader and project_id:%(project_id)s"
IMAGE_MEMBER = "project_id:%(member_id)s"
VISIBLE = (
    f"project_id:%(project_id)s or {IMAGE_MEMBER} or 'community':%(visibility)s"
    " or 'public':%(visibility)s or 'shared':%(visibility)s"
)
ADMIN_OR_PROJECT_MEMBER = f"role:admin or ({PROJECT_MEMBER})"
ADMIN_OR_PROJECT_READER = f"role:admin or ({PROJECT_READER})"
ADMIN_OR_READER_OF_VISIBLE = f"role:admin or (role:reader and ({VISIBLE}))"
ADMIN_OR_MEMBER_OF_VISIBLE = f"role:admin or (role:member and ({VISIBLE}))"
PUBLIC_NAMESPACE = "'public':%(visibility)s"
# Glance's ADMIN_OR_PROJECT_READER_GET_NAMESPACE: a namespace of one's project, or public.
METADEF_READ = f"role:admin or (role:reader and (project_id:%(project_id)s or {PUBLIC_NAMESPACE}))"
SCOPES = ("system", "project")


def _rule(name: str, check: str, description: str) -> RuleDefault:
    return RuleDefault(name, check, description, SCOPES)


RULES: tuple[RuleDefault, ...] = (
    RuleDefault("context_is_admin", "role:admin", "The is_admin check."),
    _rule(
        "add_image",
        f"role:admin or ({PROJECT_MEMBER} and project_id:%(owner)s)",
        "Create an image (owned by the caller's project unless admin).",
    ),
    _rule("delete_image", ADMIN_OR_PROJECT_MEMBER, "Delete an image."),
    _rule("get_image", ADMIN_OR_READER_OF_VISIBLE, "Show an image."),
    _rule("get_images", ADMIN_OR_PROJECT_READER, "List images."),
    _rule("modify_image", ADMIN_OR_PROJECT_MEMBER, "Update an image."),
    _rule("publicize_image", "role:admin", "Make an image public."),
    _rule("communitize_image", ADMIN_OR_PROJECT_MEMBER, "Make an image community."),
    _rule("download_image", ADMIN_OR_MEMBER_OF_VISIBLE, "Download an image's data."),
    _rule("upload_image", ADMIN_OR_PROJECT_MEMBER, "Upload (or stage) an image's data."),
    _rule("cache_list", "role:admin", "List the images cached and queued for caching."),
    _rule("cache_image", "role:admin", "Queue an image for caching."),
    _rule(
        "cache_delete", "role:admin", "Delete an image from the cache and its queue, or clear both."
    ),
    _rule("add_member", ADMIN_OR_PROJECT_MEMBER, "Share an image with a project."),
    _rule("delete_member", ADMIN_OR_PROJECT_MEMBER, "Stop sharing an image with a project."),
    _rule(
        "get_member",
        f"role:admin or (role:reader and (project_id:%(project_id)s or {IMAGE_MEMBER}))",
        "Show an image member.",
    ),
    _rule(
        "get_members",
        f"role:admin or (role:reader and (project_id:%(project_id)s or {IMAGE_MEMBER}))",
        "List an image's members.",
    ),
    _rule(
        "modify_member",
        f"role:admin or (role:member and {IMAGE_MEMBER})",
        "Accept or reject an image shared with the caller's project.",
    ),
    _rule("deactivate", ADMIN_OR_PROJECT_MEMBER, "Deactivate an image."),
    _rule("reactivate", ADMIN_OR_PROJECT_MEMBER, "Reactivate an image."),
    _rule("copy_image", "role:admin", "Copy an image to other stores (import copy-image)."),
    _rule("get_task", "role:admin", "Show an import task."),
    _rule("stores_info_detail", "role:admin", "Show the stores' details."),
    _rule("get_metadef_namespace", METADEF_READ, "Show a metadata definition namespace."),
    _rule(
        "get_metadef_namespaces", ADMIN_OR_PROJECT_READER, "List metadata definition namespaces."
    ),
    _rule("modify_metadef_namespace", "role:admin", "Update a metadata definition namespace."),
    _rule("add_metadef_namespace", "role:admin", "Create a metadata definition namespace."),
    _rule("delete_metadef_namespace", "role:admin", "Delete a metadata definition namespace."),
    _rule("get_metadef_object", METADEF_READ, "Show a metadata definition object."),
    _rule("get_metadef_objects", METADEF_READ, "List a namespace's metadata definition objects."),
    _rule("modify_metadef_object", "role:admin", "Update a metadata definition object."),
    _rule("add_metadef_object", "role:admin", "Create a metadata definition object."),
    _rule("delete_metadef_object", "role:admin", "Delete a metadata definition object."),
    _rule("list_metadef_resource_types", METADEF_READ, "List metadata definition resource types."),
    _rule(
        "get_metadef_resource_type", METADEF_READ, "List a namespace's resource type associations."
    ),
    _rule(
        "add_metadef_resource_type_association",
        "role:admin",
        "Associate a namespace with a resource type.",
    ),
    _rule(
        "remove_metadef_resource_type_association",
        "role:admin",
        "Dissociate a namespace from a resource type.",
    ),
    _rule("get_metadef_property", METADEF_READ, "Show a metadata definition property."),
    _rule(
        "get_metadef_properties", METADEF_READ, "List a namespace's metadata definition properties."
    ),
    _rule("modify_metadef_property", "role:admin", "Update a metadata definition property."),
    _rule("add_metadef_property", "role:admin", "Create a metadata definition property."),
    _rule("remove_metadef_property", "role:admin", "Delete a metadata definition property."),
    _rule("get_metadef_tag", METADEF_READ, "Show a metadata definition tag."),
    _rule("get_metadef_tags", METADEF_READ, "List a namespace's metadata definition tags."),
    _rule("modify_metadef_tag", "role:admin", "Update a metadata definition tag."),
    _rule("add_metadef_tag", "role:admin", "Create a metadata definition tag."),
    _rule(
        "add_metadef_tags",
        "role:admin",
        "Create (or replace) a namespace's metadata definition tags.",
    ),
    _rule("delete_metadef_tag", "role:admin", "Delete a metadata definition tag."),
    _rule(
        "delete_metadef_tags", "role:admin", "Delete all of a namespace's metadata definition tags."
    ),
    _rule("tasks_api_access", "role:admin", "Use the tasks API (/v2/tasks)."),
    _rule("get_tasks", "role:admin", "List tasks."),
    _rule("add_task", "role:admin", "Create a task."),
    _rule("modify_task", "role:admin", "Update a task."),
)
