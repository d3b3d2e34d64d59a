"""network auto-allocated topology (get-me-a-network)

Revision ID: network_0005
Revises: network_0004
Create Date: 2026-12-05 08:40:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "network_0005"
down_revision = "network_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_auto_allocated_topology",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("network_id", sa.String(length=36), nullable=True),
        sa.Column("router_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["network_network.id"],
            name=op.f("fk_network_auto_allocated_topology_network_id_network_network"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["router_id"],
            ["network_router.id"],
            name=op.f("fk_network_auto_allocated_topology_router_id_network_router"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_network_auto_allocated_topology")),
    )


def downgrade() -> None:
    op.drop_table("network_auto_allocated_topology")
