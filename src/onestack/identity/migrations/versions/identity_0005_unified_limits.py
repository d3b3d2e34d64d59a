"""unified limits: registered limits and project or domain limits

Revision ID: identity_0005
Revises: identity_0004
Create Date: 2026-12-04 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0005"
down_revision = "identity_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_registered_limit",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("region_id", sa.String(length=255), nullable=True),
        sa.Column("resource_name", sa.String(length=255), nullable=False),
        sa.Column("default_limit", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_registered_limit")),
        sa.UniqueConstraint(
            "service_id",
            "region_id",
            "resource_name",
            name=op.f("uq_identity_registered_limit_service_id_region_id_resource_name"),
        ),
    )
    op.create_index(
        op.f("ix_identity_registered_limit_service_id"),
        "identity_registered_limit",
        ["service_id"],
    )
    op.create_table(
        "identity_limit",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("registered_limit_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("domain_id", sa.String(length=64), nullable=True),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("region_id", sa.String(length=255), nullable=True),
        sa.Column("resource_name", sa.String(length=255), nullable=False),
        sa.Column("resource_limit", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_limit")),
    )
    op.create_index(
        op.f("ix_identity_limit_registered_limit_id"), "identity_limit", ["registered_limit_id"]
    )
    op.create_index(op.f("ix_identity_limit_project_id"), "identity_limit", ["project_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_identity_limit_project_id"), table_name="identity_limit")
    op.drop_index(op.f("ix_identity_limit_registered_limit_id"), table_name="identity_limit")
    op.drop_table("identity_limit")
    op.drop_index(
        op.f("ix_identity_registered_limit_service_id"), table_name="identity_registered_limit"
    )
    op.drop_table("identity_registered_limit")
