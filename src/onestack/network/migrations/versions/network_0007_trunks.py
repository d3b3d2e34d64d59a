"""network trunks and their sub-ports

Revision ID: network_0007
Revises: network_0006
Create Date: 2026-12-05 08:45:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "network_0007"
down_revision = "network_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_trunk",
        sa.Column("admin_state_up", sa.Boolean(), nullable=False),
        sa.Column("port_id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["port_id"],
            ["network_port.id"],
            name=op.f("fk_network_trunk_port_id_network_port"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_trunk")),
        sa.UniqueConstraint("port_id", name=op.f("uq_network_trunk_port_id")),
    )
    op.create_index(op.f("ix_network_trunk_project_id"), "network_trunk", ["project_id"])
    op.create_table(
        "network_trunk_subport",
        sa.Column("port_id", sa.String(length=36), nullable=False),
        sa.Column("trunk_id", sa.String(length=36), nullable=False),
        sa.Column("segmentation_type", sa.String(length=32), nullable=False),
        sa.Column("segmentation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["port_id"],
            ["network_port.id"],
            name=op.f("fk_network_trunk_subport_port_id_network_port"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trunk_id"],
            ["network_trunk.id"],
            name=op.f("fk_network_trunk_subport_trunk_id_network_trunk"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("port_id", name=op.f("pk_network_trunk_subport")),
        sa.UniqueConstraint(
            "trunk_id", "segmentation_type", "segmentation_id", name="uq_network_trunk_segment"
        ),
    )
    op.create_index(
        op.f("ix_network_trunk_subport_trunk_id"), "network_trunk_subport", ["trunk_id"]
    )


def downgrade() -> None:
    op.drop_table("network_trunk_subport")
    op.drop_table("network_trunk")
