"""domain-specific configuration options

Revision ID: identity_0006
Revises: identity_0005
Create Date: 2026-12-04 19:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0006"
down_revision = "identity_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_domain_config",
        sa.Column("domain_id", sa.String(length=64), nullable=False),
        sa.Column("group", sa.String(length=255), nullable=False),
        sa.Column("option", sa.String(length=255), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "domain_id", "group", "option", name=op.f("pk_identity_domain_config")
        ),
    )


def downgrade() -> None:
    op.drop_table("identity_domain_config")
