"""Cinder's policy defaults under Cinder's own rule names (``volume:create``,
``volume_extension:...``), so an operator's Cinder policy file applies unchanged.

Secure-RBAC defaults as Cinder ships them: admins may do anything; a project member acts on
its project's volumes; a reader only reads. Which volumes a caller can *see* is decided by
the service layer (its project; every project for an admin asking ``all_tenants``), so a
volume outside that view is 404, as in Cinder.
"""

from __future__ import annotations

from onestack.common.policy import RuleDefault

ADMIN = "role:admin"
MEMBER = f"{ADMIN} or (role:member and project_id:%(project_id)s)"
READER = f"{ADMIN} or (role:reader and project_id:%(project_id)s)"
ANY = "@"
SCOPES = ("project",)


def _r(name: str, check: str, description: str) -> RuleDefault:
    return RuleDefault(name, check, description, SCOPES)


VA = "volume_extension:volume_actions"
ADM = "volume_extension:volume_admin_actions"

RULES: list[RuleDefault] = [
    # volumes
    _r("volume:create", MEMBER, "Create a volume."),
    _r("volume:create_from_image", MEMBER, "Create a volume from an image."),
    _r("volume:get", READER, "Show a volume."),
    _r("volume:get_all", READER, "List volumes (and the volume summary)."),
    _r("volume:update", MEMBER, "Update a volume's name and description."),
    _r("volume:delete", MEMBER, "Delete a volume."),
    _r("volume:force_delete", ADMIN, "Delete a volume whatever its status."),
    _r("volume:multiattach", MEMBER, "Create a multiattach volume."),
    _r("volume_extension:volume_host_attribute", ADMIN, "Show os-vol-host-attr:host."),
    _r("volume_extension:volume_tenant_attribute", READER, "Show the volume's project."),
    _r("volume_extension:volume_mig_status_attribute", ADMIN, "Show migration attributes."),
    _r("volume_extension:volume_encryption_metadata", READER, "Show encryption metadata."),
    # volume actions
    _r("volume:extend", MEMBER, "Extend a volume."),
    _r("volume:reimage", MEMBER, "Rewrite a volume from an image (os-reimage, 3.68)."),
    _r(
        "volume:reimage_reserved",
        "role:admin or role:service",
        "Rewrite a volume in use (os-reimage with reimage_reserved: Nova's rebuild).",
    ),
    _r("volume:extend_attached_volume", MEMBER, "Extend an attached volume (3.42)."),
    _r("volume:revert_to_snapshot", MEMBER, "Revert a volume to its latest snapshot (3.40)."),
    _r("volume:retype", MEMBER, "Change a volume's type."),
    _r("volume:update_readonly_flag", MEMBER, "Set a volume's read-only flag."),
    _r(f"{ADM}:reset_status", ADMIN, "Reset a volume's status."),
    _r(f"{ADM}:force_delete", ADMIN, "Force-delete a volume (os-force_delete)."),
    _r(f"{ADM}:force_detach", ADMIN, "Force-detach a volume."),
    _r(f"{ADM}:migrate_volume", ADMIN, "Migrate a volume to another pool."),
    _r(f"{VA}:upload_image", MEMBER, "Upload a volume to the image service."),
    _r(f"{VA}:upload_public", ADMIN, "Upload a volume as a public image."),
    _r(f"{VA}:initialize_connection", MEMBER, "Initialize a volume connection."),
    _r(f"{VA}:terminate_connection", MEMBER, "Terminate a volume connection."),
    _r(f"{VA}:roll_detaching", MEMBER, "Roll back a detaching volume."),
    _r(f"{VA}:reserve", MEMBER, "Reserve a volume for attaching."),
    _r(f"{VA}:unreserve", MEMBER, "Release a reserved volume."),
    _r(f"{VA}:begin_detaching", MEMBER, "Mark a volume detaching."),
    _r(f"{VA}:attach", MEMBER, "Mark a volume attached (old clients)."),
    _r(f"{VA}:detach", MEMBER, "Mark a volume detached (old clients)."),
    _r("volume_extension:volume_actions:set_bootable", MEMBER, "Set a volume's bootable flag."),
    # snapshots
    _r("volume:create_snapshot", MEMBER, "Create a snapshot."),
    _r("volume:get_snapshot", READER, "Show a snapshot."),
    _r("volume:get_all_snapshots", READER, "List snapshots."),
    _r("volume:update_snapshot", MEMBER, "Update a snapshot."),
    _r("volume:delete_snapshot", MEMBER, "Delete a snapshot."),
    _r("volume:get_snapshot_metadata", READER, "Show a snapshot's metadata."),
    _r("volume:update_snapshot_metadata", MEMBER, "Update a snapshot's metadata."),
    _r("volume:delete_snapshot_metadata", MEMBER, "Delete a snapshot's metadata."),
    _r("volume_extension:extended_snapshot_attributes", READER, "Show progress and project."),
    _r("volume_extension:snapshot_admin_actions:reset_status", ADMIN, "Reset a snapshot."),
    _r("volume_extension:snapshot_admin_actions:force_delete", ADMIN, "Force-delete a snapshot."),
    _r(
        "snapshot_extension:snapshot_actions:update_snapshot_status",
        MEMBER,
        "Update a snapshot's status and progress (os-update_snapshot_status).",
    ),
    # attachments (3.27)
    _r("volume:attachment_create", MEMBER, "Create an attachment."),
    _r("volume:attachment_update", MEMBER, "Update an attachment's connector."),
    _r("volume:attachment_delete", MEMBER, "Delete an attachment."),
    _r("volume:attachment_complete", MEMBER, "Mark an attachment complete (3.44)."),
    _r("volume:multiattach_bootable_volume", MEMBER, "Attach a bootable multiattach volume."),
    # QoS specs
    _r("volume_extension:qos_specs_manage:create", ADMIN, "Create QoS specs."),
    _r("volume_extension:qos_specs_manage:get", ADMIN, "Show QoS specs and associations."),
    _r("volume_extension:qos_specs_manage:get_all", ADMIN, "List QoS specs."),
    _r("volume_extension:qos_specs_manage:update", ADMIN, "Update and associate QoS specs."),
    _r("volume_extension:qos_specs_manage:delete", ADMIN, "Delete QoS specs."),
    # backups
    _r("backup:create", MEMBER, "Create a backup."),
    _r("backup:get", READER, "Show a backup."),
    _r("backup:get_all", READER, "List backups."),
    _r("backup:delete", MEMBER, "Delete a backup."),
    _r("backup:restore", MEMBER, "Restore a backup."),
    _r("backup:update", MEMBER, "Update a backup."),
    _r("backup:backup-export", ADMIN, "Export a backup record."),
    _r("backup:backup-import", ADMIN, "Import a backup record."),
    _r("volume_extension:backup_admin_actions:reset_status", ADMIN, "Reset a backup's status."),
    _r("volume_extension:backup_admin_actions:force_delete", ADMIN, "Force-delete a backup."),
    # transfers
    _r("volume:create_transfer", MEMBER, "Offer a volume to another project."),
    _r("volume:accept_transfer", MEMBER, "Accept a volume transfer."),
    _r("volume:delete_transfer", MEMBER, "Cancel a volume transfer."),
    _r("volume:get_transfer", READER, "Show a volume transfer."),
    _r("volume:get_all_transfers", READER, "List volume transfers."),
    # metadata
    _r("volume:get_volume_metadata", READER, "Show a volume's metadata."),
    _r("volume:create_volume_metadata", MEMBER, "Add to a volume's metadata."),
    _r("volume:update_volume_metadata", MEMBER, "Replace a volume's metadata."),
    _r("volume:delete_volume_metadata", MEMBER, "Delete a volume's metadata item."),
    _r("volume_extension:volume_image_metadata:show", READER, "Show volume image metadata."),
    _r("volume_extension:volume_image_metadata:set", MEMBER, "Set volume image metadata."),
    _r("volume_extension:volume_image_metadata:remove", MEMBER, "Remove image metadata."),
    # types
    _r("volume_extension:type_create", ADMIN, "Create a volume type."),
    _r("volume_extension:type_update", ADMIN, "Update a volume type."),
    _r("volume_extension:type_delete", ADMIN, "Delete a volume type."),
    _r("volume_extension:type_get", READER, "Show a volume type."),
    _r("volume_extension:type_get_all", READER, "List volume types."),
    _r("volume_extension:access_types_extra_specs", READER, "Show types' extra specs."),
    _r("volume_extension:access_types_qos_specs_id", ADMIN, "Show types' QoS specs id."),
    _r("volume_extension:types_extra_specs:index", READER, "List a type's extra specs."),
    _r("volume_extension:types_extra_specs:show", READER, "Show a type's extra spec."),
    _r("volume_extension:types_extra_specs:create", ADMIN, "Set a type's extra specs."),
    _r("volume_extension:types_extra_specs:update", ADMIN, "Update a type's extra spec."),
    _r("volume_extension:types_extra_specs:delete", ADMIN, "Delete a type's extra spec."),
    _r("volume_extension:types_extra_specs:read_sensitive", ADMIN, "See backend extra specs."),
    _r("volume_extension:volume_type_access", READER, "Show whether a type is public."),
    _r("volume_extension:volume_type_access:addProjectAccess", ADMIN, "Share a private type."),
    _r("volume_extension:volume_type_access:removeProjectAccess", ADMIN, "Unshare a type."),
    _r("volume_extension:volume_type_access:get_all_for_type", ADMIN, "List a type's projects."),
    _r("volume_extension:default_set_or_update", ADMIN, "Set a project's default type (3.62)."),
    _r("volume_extension:default_get", READER, "Show a project's default type."),
    _r("volume_extension:default_get_all", ADMIN, "List the projects' default types."),
    _r("volume_extension:default_unset", ADMIN, "Unset a project's default type."),
    # quotas, limits, zones, services, pools, messages
    _r("volume_extension:quotas:show", READER, "Show a project's quotas."),
    _r("volume_extension:quotas:update", ADMIN, "Update a project's quotas."),
    _r("volume_extension:quotas:delete", ADMIN, "Reset a project's quotas to the defaults."),
    _r("volume_extension:quota_classes", ADMIN, "Show and update quota classes."),
    _r("limits_extension:used_limits", READER, "Show the project's used limits."),
    _r("volume_extension:availability_zone_list", ANY, "List availability zones."),
    _r("volume_extension:services:index", ADMIN, "List volume services."),
    _r("volume_extension:services:update", ADMIN, "Enable or disable a volume service."),
    _r("scheduler_extension:scheduler_stats:get_pools", ADMIN, "List back-end pools."),
    _r("volume_extension:hosts", ADMIN, "List volume hosts (os-hosts)."),
    _r("volume_extension:capabilities", ADMIN, "Show a backend's capabilities."),
    _r("message:get", READER, "Show a user message."),
    _r("message:get_all", READER, "List user messages."),
    _r("message:delete", MEMBER, "Delete a user message."),
]
