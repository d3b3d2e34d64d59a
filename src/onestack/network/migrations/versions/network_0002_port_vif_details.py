"""network port binding vif_details

Revision ID: network_0002
Revises: network_0001
Create Date: 2026-12-04 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "network_0002"
down_revision = "network_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("network_port") as batch:
        batch.add_column(
            sa.Column("binding_vif_details", sa.JSON(), nullable=False, server_default="{}")
        )


def downgrade() -> None:
    with op.batch_alter_table("network_port") as batch:
        batch.drop_column("binding_vif_details")
