"""network QoS minimum bandwidth rules: their min_kbps

Revision ID: network_0009
Revises: network_0008
Create Date: 2026-12-05 13:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "network_0009"
down_revision = "network_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("network_qos_rule", sa.Column("min_kbps", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("network_qos_rule") as batch:
        batch.drop_column("min_kbps")
