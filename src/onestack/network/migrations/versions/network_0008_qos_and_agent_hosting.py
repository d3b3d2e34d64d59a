"""network QoS policies and rules, and the agent scheduler's hosting choices

Revision ID: network_0008
Revises: network_0007
Create Date: 2026-12-05 08:40:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "network_0008"
down_revision = "network_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_qos_policy",
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_qos_policy")),
    )
    op.create_index(op.f("ix_network_qos_policy_project_id"), "network_qos_policy", ["project_id"])
    op.create_table(
        "network_qos_rule",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("qos_policy_id", sa.String(length=36), nullable=False),
        sa.Column("rule_type", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("max_kbps", sa.Integer(), nullable=True),
        sa.Column("max_burst_kbps", sa.Integer(), nullable=True),
        sa.Column("dscp_mark", sa.Integer(), nullable=True),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["qos_policy_id"],
            ["network_qos_policy.id"],
            name=op.f("fk_network_qos_rule_qos_policy_id_network_qos_policy"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_qos_rule")),
        sa.UniqueConstraint("qos_policy_id", "rule_type", "direction", name="uq_network_qos_rule"),
    )
    op.create_index(
        op.f("ix_network_qos_rule_qos_policy_id"), "network_qos_rule", ["qos_policy_id"]
    )
    for table in ("network_network", "network_port"):
        op.add_column(table, sa.Column("qos_policy_id", sa.String(length=36), nullable=True))
        op.create_index(op.f(f"ix_{table}_qos_policy_id"), table, ["qos_policy_id"])
    op.create_table(
        "network_agent_hosting",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("resource_id", sa.String(length=36), nullable=False),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("hosted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["network_agent.id"],
            name=op.f("fk_network_agent_hosting_agent_id_network_agent"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "kind", "resource_id", "agent_id", name=op.f("pk_network_agent_hosting")
        ),
    )
    op.create_index(
        op.f("ix_network_agent_hosting_agent_id"), "network_agent_hosting", ["agent_id"]
    )


def downgrade() -> None:
    op.drop_table("network_agent_hosting")
    for table in ("network_port", "network_network"):
        op.drop_index(op.f(f"ix_{table}_qos_policy_id"), table_name=table)
        op.drop_column(table, "qos_policy_id")
    op.drop_table("network_qos_rule")
    op.drop_table("network_qos_policy")
