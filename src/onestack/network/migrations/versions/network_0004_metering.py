"""network metering labels and their rules

Revision ID: network_0004
Revises: network_0003
Create Date: 2026-12-05 02:15:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "network_0004"
down_revision = "network_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_metering_label",
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_metering_label")),
    )
    op.create_index(
        op.f("ix_network_metering_label_project_id"), "network_metering_label", ["project_id"]
    )
    op.create_table(
        "network_metering_label_rule",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("metering_label_id", sa.String(length=36), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.Column("remote_ip_prefix", sa.String(length=64), nullable=True),
        sa.Column("source_ip_prefix", sa.String(length=64), nullable=True),
        sa.Column("destination_ip_prefix", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["metering_label_id"],
            ["network_metering_label.id"],
            name=op.f("fk_network_metering_label_rule_metering_label_id_network_metering_label"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_metering_label_rule")),
    )
    op.create_index(
        op.f("ix_network_metering_label_rule_metering_label_id"),
        "network_metering_label_rule",
        ["metering_label_id"],
    )


def downgrade() -> None:
    op.drop_table("network_metering_label_rule")
    op.drop_table("network_metering_label")
