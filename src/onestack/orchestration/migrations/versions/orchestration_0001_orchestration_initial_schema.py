"""orchestration initial schema: stacks, resources and events

Revision ID: orchestration_0001
Revises:
Create Date: 2026-12-04 22:20:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "orchestration_0001"
down_revision = None
branch_labels = ("orchestration",)
depends_on = None

DT = onestack.common.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "orchestration_stack",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("template", sa.JSON(), nullable=False),
        sa.Column("environment", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("disable_rollback", sa.Boolean(), nullable=False),
        sa.Column("timeout_mins", sa.Integer(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.Column("engine_id", sa.String(36), nullable=True),
        sa.Column("heartbeat", DT(), nullable=True),
        sa.Column("created_at", DT(), nullable=False),
        sa.Column("updated_at", DT(), nullable=True),
        sa.Column("deleted_at", DT(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orchestration_stack")),
    )
    for column in ("name", "project_id", "deleted_at"):
        op.create_index(op.f(f"ix_orchestration_stack_{column}"), "orchestration_stack", [column])
    op.create_table(
        "orchestration_resource",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("stack_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("physical_resource_id", sa.String(255), nullable=True),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("requires", sa.JSON(), nullable=False),
        sa.Column("created_at", DT(), nullable=False),
        sa.Column("updated_at", DT(), nullable=True),
        sa.ForeignKeyConstraint(
            ["stack_id"],
            ["orchestration_stack.id"],
            name=op.f("fk_orchestration_resource_stack_id_orchestration_stack"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orchestration_resource")),
    )
    op.create_index(
        op.f("ix_orchestration_resource_stack_id"), "orchestration_resource", ["stack_id"]
    )
    op.create_table(
        "orchestration_event",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("stack_id", sa.String(36), nullable=False),
        sa.Column("resource_name", sa.String(255), nullable=False),
        sa.Column("resource_type", sa.String(255), nullable=False),
        sa.Column("physical_resource_id", sa.String(255), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("created_at", DT(), nullable=False),
        sa.ForeignKeyConstraint(
            ["stack_id"],
            ["orchestration_stack.id"],
            name=op.f("fk_orchestration_event_stack_id_orchestration_stack"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_orchestration_event")),
        sa.UniqueConstraint("id", name=op.f("uq_orchestration_event_id")),
    )
    op.create_index(op.f("ix_orchestration_event_stack_id"), "orchestration_event", ["stack_id"])


def downgrade() -> None:
    for table in ("orchestration_event", "orchestration_resource", "orchestration_stack"):
        op.drop_table(table)
