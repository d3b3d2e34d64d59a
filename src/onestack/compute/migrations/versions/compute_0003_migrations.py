"""compute migrations: os-migrations' records of resizes

Revision ID: compute_0003
Revises: compute_0002
Create Date: 2026-12-05 02:00:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "compute_0003"
down_revision = "compute_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compute_migration",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("instance_uuid", sa.String(length=36), nullable=False),
        sa.Column("migration_type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("source_compute", sa.String(length=255), nullable=True),
        sa.Column("source_node", sa.String(length=255), nullable=True),
        sa.Column("dest_compute", sa.String(length=255), nullable=True),
        sa.Column("dest_node", sa.String(length=255), nullable=True),
        sa.Column("dest_host", sa.String(length=255), nullable=True),
        sa.Column("old_instance_type_id", sa.Integer(), nullable=True),
        sa.Column("new_instance_type_id", sa.Integer(), nullable=True),
        sa.Column("project_id", sa.String(length=255), nullable=True),
        sa.Column("user_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_migration")),
        sa.UniqueConstraint("uuid", name=op.f("uq_compute_migration_uuid")),
    )
    op.create_index(
        op.f("ix_compute_migration_instance_uuid"),
        "compute_migration",
        ["instance_uuid"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_compute_migration_instance_uuid"), table_name="compute_migration")
    op.drop_table("compute_migration")
