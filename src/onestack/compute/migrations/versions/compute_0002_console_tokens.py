"""compute console tokens

Revision ID: compute_0002
Revises: compute_0001
Create Date: 2026-11-26 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "compute_0002"
down_revision = "compute_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compute_console_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("instance_uuid", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("expires", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_compute_console_token")),
    )
    op.create_index(
        op.f("ix_compute_console_token_instance_uuid"),
        "compute_console_token",
        ["instance_uuid"],
        unique=False,
    )
    op.create_index(
        op.f("ix_compute_console_token_expires"), "compute_console_token", ["expires"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_compute_console_token_expires"), table_name="compute_console_token")
    op.drop_index(
        op.f("ix_compute_console_token_instance_uuid"), table_name="compute_console_token"
    )
    op.drop_table("compute_console_token")
