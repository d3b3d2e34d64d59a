"""trusts (OS-TRUST) and revocation of a trust's tokens

Revision ID: identity_0003
Revises: identity_0002
Create Date: 2026-12-04 18:45:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "identity_0003"
down_revision = "identity_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_trust",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("trustor_user_id", sa.String(length=64), nullable=False),
        sa.Column("trustee_user_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("impersonation", sa.Boolean(), nullable=False),
        sa.Column("expires_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.Column("remaining_uses", sa.Integer(), nullable=True),
        sa.Column("redelegated_trust_id", sa.String(length=64), nullable=True),
        sa.Column("redelegation_count", sa.Integer(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("deleted_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_trust")),
    )
    for column in ("trustor_user_id", "trustee_user_id", "project_id"):
        op.create_index(op.f(f"ix_identity_trust_{column}"), "identity_trust", [column])
    with op.batch_alter_table("identity_revocation_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trust_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identity_revocation_event", schema=None) as batch_op:
        batch_op.drop_column("trust_id")
    for column in ("trustor_user_id", "trustee_user_id", "project_id"):
        op.drop_index(op.f(f"ix_identity_trust_{column}"), table_name="identity_trust")
    op.drop_table("identity_trust")
