"""revocation of federated tokens by the group they carry

Revision ID: identity_0010
Revises: identity_0009
Create Date: 2026-12-05 09:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0010"
down_revision = "identity_0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identity_revocation_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identity_revocation_event", schema=None) as batch_op:
        batch_op.drop_column("group_id")
