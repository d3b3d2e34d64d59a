"""orchestration: software configs and deployments

Revision ID: orchestration_0003_software
Revises: orchestration_0002
Create Date: 2026-12-05 01:30:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "orchestration_0003_software"
down_revision = "orchestration_0002"
branch_labels = None
depends_on = None

DT = onestack.common.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "orchestration_software_config",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("group", sa.String(255), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("created_at", DT(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orchestration_software_config")),
    )
    op.create_index(
        op.f("ix_orchestration_software_config_project_id"),
        "orchestration_software_config",
        ["project_id"],
    )
    op.create_table(
        "orchestration_software_deployment",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("config_id", sa.String(36), nullable=False),
        sa.Column("server_id", sa.String(255), nullable=False),
        sa.Column("input_values", sa.JSON(), nullable=False),
        sa.Column("output_values", sa.JSON(), nullable=False),
        sa.Column("action", sa.String(255), nullable=False),
        sa.Column("status", sa.String(255), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("created_at", DT(), nullable=False),
        sa.Column("updated_at", DT(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orchestration_software_deployment")),
    )
    for column in ("project_id", "server_id"):
        op.create_index(
            op.f(f"ix_orchestration_software_deployment_{column}"),
            "orchestration_software_deployment",
            [column],
        )


def downgrade() -> None:
    op.drop_table("orchestration_software_deployment")
    op.drop_table("orchestration_software_config")
