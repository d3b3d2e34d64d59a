"""metering initial schema: archive policies and rules, resource types, resources (with
their history) and metrics

Revision ID: metering_0001
Revises:
Create Date: 2026-12-04 19:00:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "metering_0001"
down_revision = None
branch_labels = ("metering",)
depends_on = None

DT = onestack.common.db.UTCDateTime


def upgrade() -> None:
    _policies()
    _resources()
    _metrics()


def _policies() -> None:
    op.create_table(
        "metering_archive_policy",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("back_window", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("aggregation_methods", sa.JSON(), nullable=False),
        sa.Column("created_at", DT(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_metering_archive_policy")),
    )
    op.create_table(
        "metering_archive_policy_rule",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("metric_pattern", sa.String(255), nullable=False),
        sa.Column("archive_policy_name", sa.String(255), nullable=False),
        sa.Column("created_at", DT(), nullable=False),
        sa.ForeignKeyConstraint(
            ["archive_policy_name"],
            ["metering_archive_policy.name"],
            name=op.f(
                "fk_metering_archive_policy_rule_archive_policy_name_metering_archive_policy"
            ),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_metering_archive_policy_rule")),
    )


def _resources() -> None:
    op.create_table(
        "metering_resource_type",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("created_at", DT(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_metering_resource_type")),
    )
    op.create_table(
        "metering_resource",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("original_resource_id", sa.String(255), nullable=False),
        sa.Column("project_id", sa.String(255), nullable=True),
        sa.Column("user_id", sa.String(255), nullable=True),
        sa.Column("creator", sa.String(255), nullable=False),
        sa.Column("started_at", DT(), nullable=False),
        sa.Column("ended_at", DT(), nullable=True),
        sa.Column("revision_start", DT(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["type"],
            ["metering_resource_type.name"],
            name=op.f("fk_metering_resource_type_metering_resource_type"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metering_resource")),
    )
    for column in ("type", "project_id", "creator"):
        op.create_index(
            op.f(f"ix_metering_resource_{column}"), "metering_resource", [column], unique=False
        )
    op.create_table(
        "metering_resource_history",
        sa.Column("revision", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("resource_id", sa.String(36), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("revision_end", DT(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["metering_resource.id"],
            name=op.f("fk_metering_resource_history_resource_id_metering_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("revision", name=op.f("pk_metering_resource_history")),
    )
    op.create_index(
        op.f("ix_metering_resource_history_resource_id"),
        "metering_resource_history",
        ["resource_id"],
        unique=False,
    )


def _metrics() -> None:
    op.create_table(
        "metering_metric",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("unit", sa.String(31), nullable=True),
        sa.Column("archive_policy_name", sa.String(255), nullable=False),
        sa.Column("resource_id", sa.String(36), nullable=True),
        sa.Column("creator", sa.String(255), nullable=False),
        sa.Column("created_at", DT(), nullable=False),
        sa.ForeignKeyConstraint(
            ["archive_policy_name"],
            ["metering_archive_policy.name"],
            name=op.f("fk_metering_metric_archive_policy_name_metering_archive_policy"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["metering_resource.id"],
            name=op.f("fk_metering_metric_resource_id_metering_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metering_metric")),
        sa.UniqueConstraint(
            "resource_id", "name", name=op.f("uq_metering_metric_resource_id_name")
        ),
    )
    for column in ("name", "archive_policy_name", "resource_id", "creator"):
        op.create_index(
            op.f(f"ix_metering_metric_{column}"), "metering_metric", [column], unique=False
        )


def downgrade() -> None:
    for table in (
        "metering_metric",
        "metering_resource_history",
        "metering_resource",
        "metering_resource_type",
        "metering_archive_policy_rule",
        "metering_archive_policy",
    ):
        op.drop_table(table)
