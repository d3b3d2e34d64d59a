"""image tasks: the api_image_import task of each import

Revision ID: image_0002
Revises: image_0001
Create Date: 2026-11-26 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "image_0002"
down_revision = "image_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "image_task",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("user_id", sa.String(length=255), nullable=True),
        sa.Column("request_id", sa.String(length=255), nullable=True),
        sa.Column("input", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("expires_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["image_image.id"],
            name=op.f("fk_image_task_image_id_image_image"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_task")),
    )
    op.create_index(op.f("ix_image_task_image_id"), "image_task", ["image_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_image_task_image_id"), table_name="image_task")
    op.drop_table("image_task")
