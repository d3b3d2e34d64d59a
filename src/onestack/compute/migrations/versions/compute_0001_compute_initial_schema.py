"""compute initial schema

Revision ID: compute_0001
Revises:
Create Date: 2026-11-26 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "compute_0001"
down_revision = None
branch_labels = ("compute",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compute_aggregate",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_aggregate")),
        sa.UniqueConstraint("name", name=op.f("uq_compute_aggregate_name")),
        sa.UniqueConstraint("uuid", name=op.f("uq_compute_aggregate_uuid")),
    )
    op.create_table(
        "compute_flavor",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("flavorid", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("memory_mb", sa.Integer(), nullable=False),
        sa.Column("vcpus", sa.Integer(), nullable=False),
        sa.Column("root_gb", sa.Integer(), nullable=False),
        sa.Column("ephemeral_gb", sa.Integer(), nullable=False),
        sa.Column("swap", sa.Integer(), nullable=False),
        sa.Column("rxtx_factor", sa.Float(), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_flavor")),
        sa.UniqueConstraint("flavorid", name=op.f("uq_compute_flavor_flavorid")),
        sa.UniqueConstraint("name", name=op.f("uq_compute_flavor_name")),
    )
    op.create_table(
        "compute_instance",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("display_description", sa.Text(), nullable=True),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("node", sa.String(length=255), nullable=True),
        sa.Column("availability_zone", sa.String(length=255), nullable=True),
        sa.Column("flavor", sa.JSON(), nullable=False),
        sa.Column("new_flavor", sa.JSON(), nullable=True),
        sa.Column("old_flavor", sa.JSON(), nullable=True),
        sa.Column("image_ref", sa.String(length=255), nullable=False),
        sa.Column("vm_state", sa.String(length=32), nullable=False),
        sa.Column("task_state", sa.String(length=32), nullable=True),
        sa.Column("power_state", sa.Integer(), nullable=False),
        sa.Column("launched_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.Column("terminated_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.Column("key_name", sa.String(length=255), nullable=True),
        sa.Column("key_data", sa.Text(), nullable=True),
        sa.Column("user_data", sa.Text(), nullable=True),
        sa.Column("config_drive", sa.Boolean(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("locked_by", sa.String(length=10), nullable=True),
        sa.Column("locked_reason", sa.Text(), nullable=True),
        sa.Column("access_ip_v4", sa.String(length=45), nullable=True),
        sa.Column("access_ip_v6", sa.String(length=45), nullable=True),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("launch_index", sa.Integer(), nullable=False),
        sa.Column("reservation_id", sa.String(length=255), nullable=False),
        sa.Column("network_info", sa.JSON(), nullable=False),
        sa.Column("security_groups", sa.JSON(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("fault", sa.JSON(), nullable=True),
        sa.Column("trusted_image_certificates", sa.JSON(), nullable=True),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("deleted_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_instance")),
        sa.UniqueConstraint("uuid", name=op.f("uq_compute_instance_uuid")),
    )
    op.create_index(
        op.f("ix_compute_instance_created_at"), "compute_instance", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_compute_instance_deleted"), "compute_instance", ["deleted"], unique=False
    )
    op.create_index(
        op.f("ix_compute_instance_display_name"), "compute_instance", ["display_name"], unique=False
    )
    op.create_index(op.f("ix_compute_instance_host"), "compute_instance", ["host"], unique=False)
    op.create_index(
        op.f("ix_compute_instance_project_id"), "compute_instance", ["project_id"], unique=False
    )
    op.create_index(
        op.f("ix_compute_instance_updated_at"), "compute_instance", ["updated_at"], unique=False
    )
    op.create_index(
        op.f("ix_compute_instance_vm_state"), "compute_instance", ["vm_state"], unique=False
    )
    op.create_table(
        "compute_instance_action",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("instance_uuid", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("message", sa.String(length=255), nullable=True),
        sa.Column("start_time", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("finish_time", onestack.common.db.UTCDateTime(), nullable=True),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_instance_action")),
    )
    op.create_index(
        op.f("ix_compute_instance_action_instance_uuid"),
        "compute_instance_action",
        ["instance_uuid"],
        unique=False,
    )
    op.create_table(
        "compute_keypair",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=255), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_keypair")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_compute_keypair_user_id_name")),
    )
    op.create_index(
        op.f("ix_compute_keypair_user_id"), "compute_keypair", ["user_id"], unique=False
    )
    op.create_table(
        "compute_node",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("hypervisor_hostname", sa.String(length=255), nullable=False),
        sa.Column("hypervisor_type", sa.String(length=255), nullable=False),
        sa.Column("hypervisor_version", sa.Integer(), nullable=False),
        sa.Column("host_ip", sa.String(length=45), nullable=True),
        sa.Column("accelerator", sa.String(length=16), nullable=False),
        sa.Column("vcpus", sa.Integer(), nullable=False),
        sa.Column("memory_mb", sa.Integer(), nullable=False),
        sa.Column("local_gb", sa.Integer(), nullable=False),
        sa.Column("cpu_allocation_ratio", sa.Float(), nullable=False),
        sa.Column("ram_allocation_ratio", sa.Float(), nullable=False),
        sa.Column("disk_allocation_ratio", sa.Float(), nullable=False),
        sa.Column("reserved_host_cpus", sa.Integer(), nullable=False),
        sa.Column("reserved_host_memory_mb", sa.Integer(), nullable=False),
        sa.Column("reserved_host_disk_gb", sa.Integer(), nullable=False),
        sa.Column("cpu_info", sa.JSON(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_node")),
        sa.UniqueConstraint(
            "hypervisor_hostname", name=op.f("uq_compute_node_hypervisor_hostname")
        ),
        sa.UniqueConstraint("uuid", name=op.f("uq_compute_node_uuid")),
    )
    op.create_index(op.f("ix_compute_node_host"), "compute_node", ["host"], unique=False)
    op.create_table(
        "compute_quota",
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("resource", sa.String(length=255), nullable=False),
        sa.Column("hard_limit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "user_id", "resource", name=op.f("pk_compute_quota")),
    )
    op.create_table(
        "compute_quota_class",
        sa.Column("class_name", sa.String(length=255), nullable=False),
        sa.Column("resource", sa.String(length=255), nullable=False),
        sa.Column("hard_limit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("class_name", "resource", name=op.f("pk_compute_quota_class")),
    )
    op.create_table(
        "compute_server_group",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("policy", sa.String(length=32), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_server_group")),
        sa.UniqueConstraint("uuid", name=op.f("uq_compute_server_group_uuid")),
    )
    op.create_index(
        op.f("ix_compute_server_group_project_id"),
        "compute_server_group",
        ["project_id"],
        unique=False,
    )
    op.create_table(
        "compute_service",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("binary", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=255), nullable=True),
        sa.Column("forced_down", sa.Boolean(), nullable=False),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("last_seen_up", onestack.common.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_service")),
        sa.UniqueConstraint("host", "binary", name=op.f("uq_compute_service_host_binary")),
        sa.UniqueConstraint("uuid", name=op.f("uq_compute_service_uuid")),
    )
    op.create_table(
        "compute_aggregate_host",
        sa.Column("aggregate_id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["aggregate_id"],
            ["compute_aggregate.id"],
            name=op.f("fk_compute_aggregate_host_aggregate_id_compute_aggregate"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("aggregate_id", "host", name=op.f("pk_compute_aggregate_host")),
    )
    op.create_table(
        "compute_aggregate_metadata",
        sa.Column("aggregate_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["aggregate_id"],
            ["compute_aggregate.id"],
            name=op.f("fk_compute_aggregate_metadata_aggregate_id_compute_aggregate"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("aggregate_id", "key", name=op.f("pk_compute_aggregate_metadata")),
    )
    op.create_table(
        "compute_allocation",
        sa.Column("consumer_uuid", sa.String(length=36), nullable=False),
        sa.Column("node_uuid", sa.String(length=36), nullable=False),
        sa.Column("vcpus", sa.Integer(), nullable=False),
        sa.Column("memory_mb", sa.Integer(), nullable=False),
        sa.Column("disk_gb", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_uuid"],
            ["compute_node.uuid"],
            name=op.f("fk_compute_allocation_node_uuid_compute_node"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("consumer_uuid", "node_uuid", name=op.f("pk_compute_allocation")),
    )
    op.create_index(
        op.f("ix_compute_allocation_node_uuid"), "compute_allocation", ["node_uuid"], unique=False
    )
    op.create_table(
        "compute_flavor_access",
        sa.Column("flavor_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["flavor_id"],
            ["compute_flavor.id"],
            name=op.f("fk_compute_flavor_access_flavor_id_compute_flavor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("flavor_id", "project_id", name=op.f("pk_compute_flavor_access")),
    )
    op.create_table(
        "compute_flavor_extra_spec",
        sa.Column("flavor_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["flavor_id"],
            ["compute_flavor.id"],
            name=op.f("fk_compute_flavor_extra_spec_flavor_id_compute_flavor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("flavor_id", "key", name=op.f("pk_compute_flavor_extra_spec")),
    )
    op.create_table(
        "compute_instance_action_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=255), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("result", sa.String(length=255), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("start_time", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("finish_time", onestack.common.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["compute_instance_action.id"],
            name=op.f("fk_compute_instance_action_event_action_id_compute_instance_action"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_instance_action_event")),
    )
    op.create_index(
        op.f("ix_compute_instance_action_event_action_id"),
        "compute_instance_action_event",
        ["action_id"],
        unique=False,
    )
    op.create_table(
        "compute_instance_metadata",
        sa.Column("instance_uuid", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_uuid"],
            ["compute_instance.uuid"],
            name=op.f("fk_compute_instance_metadata_instance_uuid_compute_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("instance_uuid", "key", name=op.f("pk_compute_instance_metadata")),
    )
    op.create_table(
        "compute_instance_tag",
        sa.Column("instance_uuid", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_uuid"],
            ["compute_instance.uuid"],
            name=op.f("fk_compute_instance_tag_instance_uuid_compute_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("instance_uuid", "tag", name=op.f("pk_compute_instance_tag")),
    )
    op.create_index(
        op.f("ix_compute_instance_tag_tag"), "compute_instance_tag", ["tag"], unique=False
    )
    op.create_table(
        "compute_server_group_member",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("instance_uuid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["compute_server_group.id"],
            name=op.f("fk_compute_server_group_member_group_id_compute_server_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "group_id", "instance_uuid", name=op.f("pk_compute_server_group_member")
        ),
    )
    op.create_index(
        op.f("ix_compute_server_group_member_instance_uuid"),
        "compute_server_group_member",
        ["instance_uuid"],
        unique=False,
    )
    op.create_table(
        "compute_volume_attachment",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_uuid", sa.String(length=36), nullable=False),
        sa.Column("volume_id", sa.String(length=36), nullable=False),
        sa.Column("device_name", sa.String(length=255), nullable=True),
        sa.Column("boot_index", sa.Integer(), nullable=True),
        sa.Column("delete_on_termination", sa.Boolean(), nullable=False),
        sa.Column("tag", sa.String(length=60), nullable=True),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_uuid"],
            ["compute_instance.uuid"],
            name=op.f("fk_compute_volume_attachment_instance_uuid_compute_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_volume_attachment")),
    )
    op.create_index(
        op.f("ix_compute_volume_attachment_instance_uuid"),
        "compute_volume_attachment",
        ["instance_uuid"],
        unique=False,
    )
    op.create_index(
        op.f("ix_compute_volume_attachment_volume_id"),
        "compute_volume_attachment",
        ["volume_id"],
        unique=False,
    )
