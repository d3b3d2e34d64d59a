"""common: quota locks

Revision ID: common_0001
Revises:
Create Date: 2026-12-04 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "common_0001"
down_revision = None
branch_labels = ("common",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "common_quota_lock",
        sa.Column("scope", sa.String(length=255), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_common_quota_lock")),
    )


def downgrade() -> None:
    op.drop_table("common_quota_lock")
