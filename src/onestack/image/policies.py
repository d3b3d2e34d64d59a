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
)
