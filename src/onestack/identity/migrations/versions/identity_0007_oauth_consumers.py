"""OAuth1 consumers

Revision ID: identity_0007
Revises: identity_0006
Create Date: 2026-12-04 19:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0007"
down_revision = "identity_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_oauth_consumer",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("encrypted_secret", sa.Text(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_oauth_consumer")),
    )


def downgrade() -> None:
    op.drop_table("identity_oauth_consumer")
