"""network flavors and service profiles

Revision ID: network_0006
Revises: network_0005
Create Date: 2026-12-05 08:35:00
"""

import sqlalchemy as sa
from alembic import op

revision = "network_0006"
down_revision = "network_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_flavor",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=1024), nullable=False),
        sa.Column("service_type", sa.String(length=36), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_flavor")),
    )
    op.create_table(
        "network_service_profile",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("description", sa.String(length=1024), nullable=False),
        sa.Column("driver", sa.String(length=1024), nullable=False),
        sa.Column("metainfo", sa.String(length=4096), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_service_profile")),
    )
    op.create_table(
        "network_flavor_service_profile",
        sa.Column("flavor_id", sa.String(length=36), nullable=False),
        sa.Column("service_profile_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["flavor_id"],
            ["network_flavor.id"],
            name="fk_network_flavor_sp_flavor",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_profile_id"],
            ["network_service_profile.id"],
            name="fk_network_flavor_sp_profile",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "flavor_id", "service_profile_id", name=op.f("pk_network_flavor_service_profile")
        ),
    )


def downgrade() -> None:
    op.drop_table("network_flavor_service_profile")
    op.drop_table("network_service_profile")
    op.drop_table("network_flavor")
