"""OAuth1 request and access tokens, and revocation of the tokens issued through them

Revision ID: identity_0008
Revises: identity_0007
Create Date: 2026-12-05 08:40:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "identity_0008"
down_revision = "identity_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_oauth_request_token",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("encrypted_secret", sa.Text(), nullable=False),
        sa.Column("consumer_id", sa.String(length=64), nullable=False),
        sa.Column("requested_project_id", sa.String(length=64), nullable=False),
        sa.Column("verifier", sa.String(length=64), nullable=True),
        sa.Column("authorizing_user_id", sa.String(length=64), nullable=True),
        sa.Column("role_ids", sa.JSON(), nullable=True),
        sa.Column("expires_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_oauth_request_token")),
    )
    op.create_index(
        op.f("ix_identity_oauth_request_token_consumer_id"),
        "identity_oauth_request_token",
        ["consumer_id"],
    )
    op.create_table(
        "identity_oauth_access_token",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("encrypted_secret", sa.Text(), nullable=False),
        sa.Column("consumer_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("authorizing_user_id", sa.String(length=64), nullable=False),
        sa.Column("role_ids", sa.JSON(), nullable=False),
        sa.Column("expires_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_oauth_access_token")),
    )
    for column in ("consumer_id", "authorizing_user_id"):
        op.create_index(
            op.f(f"ix_identity_oauth_access_token_{column}"),
            "identity_oauth_access_token",
            [column],
        )
    with op.batch_alter_table("identity_revocation_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("access_token_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("consumer_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identity_revocation_event", schema=None) as batch_op:
        batch_op.drop_column("consumer_id")
        batch_op.drop_column("access_token_id")
    for column in ("consumer_id", "authorizing_user_id"):
        op.drop_index(
            op.f(f"ix_identity_oauth_access_token_{column}"),
            table_name="identity_oauth_access_token",
        )
    op.drop_table("identity_oauth_access_token")
    op.drop_index(
        op.f("ix_identity_oauth_request_token_consumer_id"),
        table_name="identity_oauth_request_token",
    )
    op.drop_table("identity_oauth_request_token")
