"""volume transfers, backups, QoS specs and default types

Revision ID: volume_0002
Revises: volume_0001
Create Date: 2026-12-04 19:00:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "volume_0002"
down_revision = "volume_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("volume_volume") as batch:
        batch.add_column(sa.Column("previous_status", sa.String(length=32), nullable=True))
    op.create_table(
        "volume_default_type",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("volume_type_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["volume_type_id"],
            ["volume_type.id"],
            name=op.f("fk_volume_default_type_volume_type_id_volume_type"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_volume_default_type")),
    )
    op.create_index(
        op.f("ix_volume_default_type_volume_type_id"),
        "volume_default_type",
        ["volume_type_id"],
        unique=False,
    )
    op.create_table(
        "volume_qos_specs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("consumer", sa.String(length=16), nullable=False),
        sa.Column("specs", sa.JSON(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volume_qos_specs")),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "volume_backup",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("volume_id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("availability_zone", sa.String(length=255), nullable=True),
        sa.Column("container", sa.String(length=255), nullable=True),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("is_incremental", sa.Boolean(), nullable=False),
        sa.Column("restore_volume_id", sa.String(length=36), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("fail_reason", sa.Text(), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("data_timestamp", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volume_backup")),
    )
    op.create_index(
        op.f("ix_volume_backup_created_at"), "volume_backup", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_volume_backup_parent_id"), "volume_backup", ["parent_id"], unique=False
    )
    op.create_index(
        op.f("ix_volume_backup_project_id"), "volume_backup", ["project_id"], unique=False
    )
    op.create_index(
        op.f("ix_volume_backup_volume_id"), "volume_backup", ["volume_id"], unique=False
    )
    op.create_table(
        "volume_transfer",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("volume_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("crypt_hash", sa.String(length=64), nullable=False),
        sa.Column("source_project_id", sa.String(length=64), nullable=False),
        sa.Column("destination_project_id", sa.String(length=64), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("no_snapshots", sa.Boolean(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volume_transfer")),
    )
    op.create_index(
        op.f("ix_volume_transfer_source_project_id"),
        "volume_transfer",
        ["source_project_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_volume_transfer_volume_id"), "volume_transfer", ["volume_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_volume_default_type_volume_type_id"), table_name="volume_default_type")
    op.drop_table("volume_default_type")
    op.drop_table("volume_qos_specs")
    op.drop_index(op.f("ix_volume_transfer_volume_id"), table_name="volume_transfer")
    op.drop_index(op.f("ix_volume_transfer_source_project_id"), table_name="volume_transfer")
    op.drop_table("volume_transfer")
    op.drop_index(op.f("ix_volume_backup_volume_id"), table_name="volume_backup")
    op.drop_index(op.f("ix_volume_backup_project_id"), table_name="volume_backup")
    op.drop_index(op.f("ix_volume_backup_parent_id"), table_name="volume_backup")
    op.drop_index(op.f("ix_volume_backup_created_at"), table_name="volume_backup")
    op.drop_table("volume_backup")
    with op.batch_alter_table("volume_volume") as batch:
        batch.drop_column("previous_status")
