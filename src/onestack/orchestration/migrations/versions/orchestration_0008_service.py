"""orchestration: the engines' service records (Heat's ``service`` table)

Revision ID: orchestration_0008_service
Revises: orchestration_0007_facade
Create Date: 2026-12-05 22:15:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "orchestration_0008_service"
down_revision = "orchestration_0007_facade"
branch_labels = None
depends_on = None

DT = onestack.common.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "orchestration_service",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("engine_id", sa.String(36), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("binary", sa.String(255), nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("report_interval", sa.Integer(), nullable=False),
        sa.Column("created_at", DT(), nullable=False),
        sa.Column("updated_at", DT(), nullable=True),
        sa.Column("deleted_at", DT(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orchestration_service")),
    )
    for column in ("engine_id", "deleted_at"):
        op.create_index(
            op.f(f"ix_orchestration_service_{column}"), "orchestration_service", [column]
        )


def downgrade() -> None:
    op.drop_table("orchestration_service")
