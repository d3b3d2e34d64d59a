"""volume initial schema

Revision ID: volume_0001
Revises:
Create Date: 2026-12-04 18:30:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "volume_0001"
down_revision = None
branch_labels = ("volume",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "volume_message",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=255), nullable=False),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("resource_uuid", sa.String(length=36), nullable=True),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("message_level", sa.String(length=16), nullable=False),
        sa.Column("user_message", sa.Text(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volume_message")),
    )
    op.create_index(
        op.f("ix_volume_message_project_id"), "volume_message", ["project_id"], unique=False
    )
    op.create_table(
        "volume_pool",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("backend", sa.String(length=255), nullable=False),
        sa.Column("driver", sa.String(length=64), nullable=False),
        sa.Column("availability_zone", sa.String(length=255), nullable=False),
        sa.Column("total_capacity_gb", sa.Float(), nullable=False),
        sa.Column("free_capacity_gb", sa.Float(), nullable=False),
        sa.Column("allocated_capacity_gb", sa.Integer(), nullable=False),
        sa.Column("reserved_percentage", sa.Integer(), nullable=False),
        sa.Column("max_over_subscription_ratio", sa.Float(), nullable=False),
        sa.Column("thin", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=255), nullable=True),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_volume_pool")),
    )
    op.create_index(op.f("ix_volume_pool_host"), "volume_pool", ["host"], unique=False)
    op.create_table(
        "volume_quota",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("resource", sa.String(length=255), nullable=False),
        sa.Column("hard_limit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "resource", name=op.f("pk_volume_quota")),
    )
    op.create_table(
        "volume_snapshot",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("volume_id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("progress", sa.String(length=8), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("provider_location", sa.Text(), nullable=True),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volume_snapshot")),
    )
    op.create_index(
        op.f("ix_volume_snapshot_created_at"), "volume_snapshot", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_volume_snapshot_project_id"), "volume_snapshot", ["project_id"], unique=False
    )
    op.create_index(
        op.f("ix_volume_snapshot_volume_id"), "volume_snapshot", ["volume_id"], unique=False
    )
    op.create_table(
        "volume_type",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("extra_specs", sa.JSON(), nullable=False),
        sa.Column("qos_specs_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volume_type")),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "volume_volume",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("target_size", sa.Integer(), nullable=True),
        sa.Column("availability_zone", sa.String(length=255), nullable=False),
        sa.Column("volume_type_id", sa.String(length=36), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("bootable", sa.Boolean(), nullable=False),
        sa.Column("readonly", sa.Boolean(), nullable=False),
        sa.Column("multiattach", sa.Boolean(), nullable=False),
        sa.Column("snapshot_id", sa.String(length=36), nullable=True),
        sa.Column("source_volid", sa.String(length=36), nullable=True),
        sa.Column("image_id", sa.String(length=36), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("image_metadata", sa.JSON(), nullable=True),
        sa.Column("provider_location", sa.Text(), nullable=True),
        sa.Column("disk_format", sa.String(length=16), nullable=True),
        sa.Column("migration_status", sa.String(length=32), nullable=True),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volume_volume")),
    )
    op.create_index(
        op.f("ix_volume_volume_created_at"), "volume_volume", ["created_at"], unique=False
    )
    op.create_index(op.f("ix_volume_volume_host"), "volume_volume", ["host"], unique=False)
    op.create_index(op.f("ix_volume_volume_name"), "volume_volume", ["name"], unique=False)
    op.create_index(
        op.f("ix_volume_volume_project_id"), "volume_volume", ["project_id"], unique=False
    )
    op.create_index(op.f("ix_volume_volume_status"), "volume_volume", ["status"], unique=False)
    op.create_index(
        op.f("ix_volume_volume_volume_type_id"), "volume_volume", ["volume_type_id"], unique=False
    )
    op.create_table(
        "volume_attachment",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("volume_id", sa.String(length=36), nullable=False),
        sa.Column("instance_uuid", sa.String(length=36), nullable=True),
        sa.Column("attached_host", sa.String(length=255), nullable=True),
        sa.Column("mountpoint", sa.String(length=255), nullable=True),
        sa.Column("attach_mode", sa.String(length=8), nullable=False),
        sa.Column("attach_status", sa.String(length=16), nullable=False),
        sa.Column("connector", sa.JSON(), nullable=True),
        sa.Column("attach_time", onestack.common.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["volume_id"],
            ["volume_volume.id"],
            name=op.f("fk_volume_attachment_volume_id_volume_volume"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volume_attachment")),
    )
    op.create_index(
        op.f("ix_volume_attachment_instance_uuid"),
        "volume_attachment",
        ["instance_uuid"],
        unique=False,
    )
    op.create_index(
        op.f("ix_volume_attachment_volume_id"), "volume_attachment", ["volume_id"], unique=False
    )
    op.create_table(
        "volume_type_access",
        sa.Column("volume_type_id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["volume_type_id"],
            ["volume_type.id"],
            name=op.f("fk_volume_type_access_volume_type_id_volume_type"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("volume_type_id", "project_id", name=op.f("pk_volume_type_access")),
    )


def downgrade() -> None:
    op.drop_table("volume_type_access")
    op.drop_index(op.f("ix_volume_attachment_volume_id"), table_name="volume_attachment")
    op.drop_index(op.f("ix_volume_attachment_instance_uuid"), table_name="volume_attachment")
    op.drop_table("volume_attachment")
    op.drop_index(op.f("ix_volume_volume_volume_type_id"), table_name="volume_volume")
    op.drop_index(op.f("ix_volume_volume_status"), table_name="volume_volume")
    op.drop_index(op.f("ix_volume_volume_project_id"), table_name="volume_volume")
    op.drop_index(op.f("ix_volume_volume_name"), table_name="volume_volume")
    op.drop_index(op.f("ix_volume_volume_host"), table_name="volume_volume")
    op.drop_index(op.f("ix_volume_volume_created_at"), table_name="volume_volume")
    op.drop_table("volume_volume")
    op.drop_table("volume_type")
    op.drop_index(op.f("ix_volume_snapshot_volume_id"), table_name="volume_snapshot")
    op.drop_index(op.f("ix_volume_snapshot_project_id"), table_name="volume_snapshot")
    op.drop_index(op.f("ix_volume_snapshot_created_at"), table_name="volume_snapshot")
    op.drop_table("volume_snapshot")
    op.drop_table("volume_quota")
    op.drop_index(op.f("ix_volume_pool_host"), table_name="volume_pool")
    op.drop_table("volume_pool")
    op.drop_index(op.f("ix_volume_message_project_id"), table_name="volume_message")
    op.drop_table("volume_message")
