"""policy blobs and a registry of access rules

Revision ID: identity_0002
Revises: identity_0001
Create Date: 2026-11-24 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0002"
down_revision = "identity_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_policy",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("blob", sa.Text(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_policy")),
    )
    op.create_table(
        "identity_access_rule",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=225), nullable=False),
        sa.Column("path", sa.String(length=225), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["identity_user.id"],
            name=op.f("fk_identity_access_rule_user_id_identity_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_access_rule")),
        sa.UniqueConstraint(
            "user_id", "service", "path", "method", name=op.f("uq_identity_access_rule_user_id")
        ),
    )
    op.create_index(
        op.f("ix_identity_access_rule_user_id"), "identity_access_rule", ["user_id"], unique=False
    )
    # Rules of existing application credentials join the registry under their own ids.
    conn = op.get_bind()
    creds = sa.table(
        "identity_app_cred", sa.column("user_id", sa.String), sa.column("access_rules", sa.JSON)
    )
    rules = sa.table(
        "identity_access_rule",
        sa.column("id", sa.String),
        sa.column("user_id", sa.String),
        sa.column("service", sa.String),
        sa.column("path", sa.String),
        sa.column("method", sa.String),
    )
    seen: set[tuple[str, str, str, str]] = set()
    for user_id, access_rules in conn.execute(sa.select(creds.c.user_id, creds.c.access_rules)):
        for rule in access_rules or []:
            key = (user_id, rule.get("service"), rule.get("path"), rule.get("method"))
            if None in key or key in seen:
                continue
            seen.add(key)
            conn.execute(
                rules.insert().values(
                    id=rule["id"], user_id=user_id, service=key[1], path=key[2], method=key[3]
                )
            )


def downgrade() -> None:
    op.drop_index(op.f("ix_identity_access_rule_user_id"), table_name="identity_access_rule")
    op.drop_table("identity_access_rule")
    op.drop_table("identity_policy")
