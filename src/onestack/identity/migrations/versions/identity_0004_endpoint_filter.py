"""endpoint groups and project endpoint filters (OS-EP-FILTER)

Revision ID: identity_0004
Revises: identity_0003
Create Date: 2026-12-04 18:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0004"
down_revision = "identity_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_endpoint_group",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_endpoint_group")),
    )
    op.create_table(
        "identity_project_endpoint",
        sa.Column("endpoint_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint(
            "endpoint_id", "project_id", name=op.f("pk_identity_project_endpoint")
        ),
    )
    op.create_index(
        op.f("ix_identity_project_endpoint_project_id"),
        "identity_project_endpoint",
        ["project_id"],
    )
    op.create_table(
        "identity_project_endpoint_group",
        sa.Column("endpoint_group_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint(
            "endpoint_group_id", "project_id", name=op.f("pk_identity_project_endpoint_group")
        ),
    )
    op.create_index(
        op.f("ix_identity_project_endpoint_group_project_id"),
        "identity_project_endpoint_group",
        ["project_id"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_identity_project_endpoint_group_project_id"),
        table_name="identity_project_endpoint_group",
    )
    op.drop_table("identity_project_endpoint_group")
    op.drop_index(
        op.f("ix_identity_project_endpoint_project_id"), table_name="identity_project_endpoint"
    )
    op.drop_table("identity_project_endpoint")
    op.drop_table("identity_endpoint_group")
