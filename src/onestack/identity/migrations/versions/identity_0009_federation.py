"""OS-FEDERATION: identity providers and their remote ids, mappings, protocols, service
providers and federated (shadow) users

Revision ID: identity_0009
Revises: identity_0008
Create Date: 2026-12-05 08:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0009"
down_revision = "identity_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_federation_idp",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("domain_id", sa.String(length=64), nullable=False),
        sa.Column("authorization_ttl", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_federation_idp")),
    )
    op.create_index(
        op.f("ix_identity_federation_idp_domain_id"), "identity_federation_idp", ["domain_id"]
    )
    op.create_table(
        "identity_federation_idp_remote_id",
        sa.Column("remote_id", sa.String(length=255), nullable=False),
        sa.Column("idp_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("remote_id", name=op.f("pk_identity_federation_idp_remote_id")),
    )
    op.create_index(
        op.f("ix_identity_federation_idp_remote_id_idp_id"),
        "identity_federation_idp_remote_id",
        ["idp_id"],
    )
    op.create_table(
        "identity_federation_mapping",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("schema_version", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_federation_mapping")),
    )
    op.create_table(
        "identity_federation_protocol",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("idp_id", sa.String(length=64), nullable=False),
        sa.Column("mapping_id", sa.String(length=64), nullable=False),
        sa.Column("remote_id_attribute", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", "idp_id", name=op.f("pk_identity_federation_protocol")),
    )
    op.create_index(
        op.f("ix_identity_federation_protocol_mapping_id"),
        "identity_federation_protocol",
        ["mapping_id"],
    )
    op.create_table(
        "identity_federation_sp",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("auth_url", sa.String(length=256), nullable=False),
        sa.Column("sp_url", sa.String(length=256), nullable=False),
        sa.Column("relay_state_prefix", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_federation_sp")),
    )
    op.create_table(
        "identity_federated_user",
        sa.Column("idp_id", sa.String(length=64), nullable=False),
        sa.Column("protocol_id", sa.String(length=64), nullable=False),
        sa.Column("unique_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint(
            "idp_id", "protocol_id", "unique_id", name=op.f("pk_identity_federated_user")
        ),
    )
    op.create_index(
        op.f("ix_identity_federated_user_user_id"), "identity_federated_user", ["user_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_identity_federated_user_user_id"), table_name="identity_federated_user")
    op.drop_table("identity_federated_user")
    op.drop_table("identity_federation_sp")
    op.drop_index(
        op.f("ix_identity_federation_protocol_mapping_id"),
        table_name="identity_federation_protocol",
    )
    op.drop_table("identity_federation_protocol")
    op.drop_table("identity_federation_mapping")
    op.drop_index(
        op.f("ix_identity_federation_idp_remote_id_idp_id"),
        table_name="identity_federation_idp_remote_id",
    )
    op.drop_table("identity_federation_idp_remote_id")
    op.drop_index(
        op.f("ix_identity_federation_idp_domain_id"), table_name="identity_federation_idp"
    )
    op.drop_table("identity_federation_idp")
