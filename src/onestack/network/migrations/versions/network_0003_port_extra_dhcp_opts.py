"""network port extra DHCP options

Revision ID: network_0003
Revises: network_0002
Create Date: 2026-12-05 02:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "network_0003"
down_revision = "network_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("network_port") as batch:
        batch.add_column(
            sa.Column("extra_dhcp_opts", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("network_port") as batch:
        batch.drop_column("extra_dhcp_opts")
