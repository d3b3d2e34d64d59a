"""orchestration: stack snapshots, and a cancel asked of the engine that runs an update

Revision ID: orchestration_0005_actions
Revises: orchestration_0004
Create Date: 2026-12-05 01:40:00
"""

import sqlalchemy as sa
from alembic import op

from onestack.common.db import UTCDateTime

revision = "orchestration_0005_actions"
down_revision = "orchestration_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orchestration_stack") as batch:
        batch.add_column(sa.Column("cancel", sa.String(16), nullable=True))
    op.create_table(
        "orchestration_snapshot",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "stack_id",
            sa.String(36),
            sa.ForeignKey("orchestration_stack.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index(
        op.f("ix_orchestration_snapshot_stack_id"), "orchestration_snapshot", ["stack_id"]
    )


def downgrade() -> None:
    op.drop_table("orchestration_snapshot")
    with op.batch_alter_table("orchestration_stack") as batch:
        batch.drop_column("cancel")
