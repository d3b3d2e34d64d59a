"""alarming initial schema: alarms, their history, quotas and the evaluator's lease

Revision ID: alarming_0001
Revises:
Create Date: 2026-12-04 19:10:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "alarming_0001"
down_revision = None
branch_labels = ("alarming",)
depends_on = None

DT = onestack.common.db.UTCDateTime


def upgrade() -> None:
    _alarms()
    _others()


def _alarms() -> None:
    op.create_table(
        "alarming_alarm",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=False),
        sa.Column("state_timestamp", DT(), nullable=False),
        sa.Column("timestamp", DT(), nullable=False),
        sa.Column("evaluate_timestamp", DT(), nullable=True),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("repeat_actions", sa.Boolean(), nullable=False),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("time_constraints", sa.JSON(), nullable=False),
        sa.Column("ok_actions", sa.JSON(), nullable=False),
        sa.Column("alarm_actions", sa.JSON(), nullable=False),
        sa.Column("insufficient_data_actions", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarming_alarm")),
    )
    for column in ("name", "type", "project_id", "user_id"):
        op.create_index(op.f(f"ix_alarming_alarm_{column}"), "alarming_alarm", [column])


def _others() -> None:
    op.create_table(
        "alarming_change",
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("alarm_id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("project_id", sa.String(255), nullable=True),
        sa.Column("user_id", sa.String(255), nullable=True),
        sa.Column("on_behalf_of", sa.String(255), nullable=True),
        sa.Column("severity", sa.String(16), nullable=True),
        sa.Column("timestamp", DT(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_alarming_change")),
    )
    for column in ("alarm_id", "timestamp"):
        op.create_index(op.f(f"ix_alarming_change_{column}"), "alarming_change", [column])
    op.create_table(
        "alarming_quota",
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("resource", sa.String(50), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "resource", name=op.f("pk_alarming_quota")),
    )
    op.create_table(
        "alarming_lease",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("expires", DT(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_alarming_lease")),
    )


def downgrade() -> None:
    for table in ("alarming_lease", "alarming_quota", "alarming_change", "alarming_alarm"):
        op.drop_table(table)
