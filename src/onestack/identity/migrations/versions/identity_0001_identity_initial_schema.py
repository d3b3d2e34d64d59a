"""identity initial schema

Revision ID: identity_0001
Revises:
Create Date: 2026-11-24 09:20:59.652953
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "identity_0001"
down_revision = None
branch_labels = ("identity",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_domain",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_domain")),
        sa.UniqueConstraint("name", name=op.f("uq_identity_domain_name")),
    )
    op.create_table(
        "identity_region",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("parent_region_id", sa.String(length=255), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_region_id"],
            ["identity_region.id"],
            name=op.f("fk_identity_region_parent_region_id_identity_region"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_region")),
    )
    op.create_table(
        "identity_revocation_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("audit_id", sa.String(length=32), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("domain_id", sa.String(length=64), nullable=True),
        sa.Column("role_id", sa.String(length=64), nullable=True),
        sa.Column("app_cred_id", sa.String(length=64), nullable=True),
        sa.Column("issued_before_us", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_revocation_event")),
    )
    with op.batch_alter_table("identity_revocation_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_revocation_event_revoked_at"), ["revoked_at"], unique=False
        )

    op.create_table(
        "identity_role",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("domain_id", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_role")),
        sa.UniqueConstraint("name", "domain_id", name=op.f("uq_identity_role_name_domain_id")),
    )
    op.create_table(
        "identity_service",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_service")),
    )
    op.create_table(
        "identity_assignment",
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("role_id", sa.String(length=64), nullable=False),
        sa.Column("inherited", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["identity_role.id"],
            name=op.f("fk_identity_assignment_role_id_identity_role"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "type",
            "actor_id",
            "target_id",
            "role_id",
            "inherited",
            name=op.f("pk_identity_assignment"),
        ),
    )
    with op.batch_alter_table("identity_assignment", schema=None) as batch_op:
        batch_op.create_index("ix_identity_assignment_target", ["target_id"], unique=False)

    op.create_table(
        "identity_endpoint",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("interface", sa.String(length=8), nullable=False),
        sa.Column("region_id", sa.String(length=255), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["identity_region.id"],
            name=op.f("fk_identity_endpoint_region_id_identity_region"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["identity_service.id"],
            name=op.f("fk_identity_endpoint_service_id_identity_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_endpoint")),
    )
    with op.batch_alter_table("identity_endpoint", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_endpoint_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "identity_group",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("domain_id", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["identity_domain.id"],
            name=op.f("fk_identity_group_domain_id_identity_domain"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_group")),
        sa.UniqueConstraint("domain_id", "name", name=op.f("uq_identity_group_domain_id_name")),
    )
    with op.batch_alter_table("identity_group", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_group_domain_id"), ["domain_id"], unique=False
        )

    op.create_table(
        "identity_implied_role",
        sa.Column("prior_role_id", sa.String(length=64), nullable=False),
        sa.Column("implied_role_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["implied_role_id"],
            ["identity_role.id"],
            name=op.f("fk_identity_implied_role_implied_role_id_identity_role"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["prior_role_id"],
            ["identity_role.id"],
            name=op.f("fk_identity_implied_role_prior_role_id_identity_role"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "prior_role_id", "implied_role_id", name=op.f("pk_identity_implied_role")
        ),
    )
    op.create_table(
        "identity_project",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("domain_id", sa.String(length=64), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["identity_domain.id"],
            name=op.f("fk_identity_project_domain_id_identity_domain"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["identity_project.id"],
            name=op.f("fk_identity_project_parent_id_identity_project"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_project")),
        sa.UniqueConstraint("domain_id", "name", name=op.f("uq_identity_project_domain_id_name")),
    )
    with op.batch_alter_table("identity_project", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_project_domain_id"), ["domain_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_identity_project_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "identity_user",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("domain_id", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("default_project_id", sa.String(length=64), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("password_created_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.Column("password_expires_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["identity_domain.id"],
            name=op.f("fk_identity_user_domain_id_identity_domain"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_user")),
        sa.UniqueConstraint("domain_id", "name", name=op.f("uq_identity_user_domain_id_name")),
    )
    with op.batch_alter_table("identity_user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_user_domain_id"), ["domain_id"], unique=False)

    op.create_table(
        "identity_app_cred",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("system", sa.String(length=16), nullable=True),
        sa.Column("secret_hash", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("expires_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.Column("unrestricted", sa.Boolean(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("access_rules", sa.JSON(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["identity_user.id"],
            name=op.f("fk_identity_app_cred_user_id_identity_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_app_cred")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_identity_app_cred_user_id_name")),
    )
    with op.batch_alter_table("identity_app_cred", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_app_cred_user_id"), ["user_id"], unique=False)

    op.create_table(
        "identity_credential",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("encrypted_blob", sa.Text(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["identity_user.id"],
            name=op.f("fk_identity_credential_user_id_identity_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_credential")),
    )
    with op.batch_alter_table("identity_credential", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_credential_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "identity_membership",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["identity_group.id"],
            name=op.f("fk_identity_membership_group_id_identity_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["identity_user.id"],
            name=op.f("fk_identity_membership_user_id_identity_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "group_id", name=op.f("pk_identity_membership")),
    )
    with op.batch_alter_table("identity_membership", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_membership_group_id"), ["group_id"], unique=False
        )

    op.create_table(
        "identity_project_tag",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["identity_project.id"],
            name=op.f("fk_identity_project_tag_project_id_identity_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "name", name=op.f("pk_identity_project_tag")),
    )


def downgrade() -> None:
    op.drop_table("identity_project_tag")
    with op.batch_alter_table("identity_membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_membership_group_id"))

    op.drop_table("identity_membership")
    with op.batch_alter_table("identity_credential", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_credential_user_id"))

    op.drop_table("identity_credential")
    with op.batch_alter_table("identity_app_cred", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_app_cred_user_id"))

    op.drop_table("identity_app_cred")
    with op.batch_alter_table("identity_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_user_domain_id"))

    op.drop_table("identity_user")
    with op.batch_alter_table("identity_project", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_project_parent_id"))
        batch_op.drop_index(batch_op.f("ix_identity_project_domain_id"))

    op.drop_table("identity_project")
    op.drop_table("identity_implied_role")
    with op.batch_alter_table("identity_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_group_domain_id"))

    op.drop_table("identity_group")
    with op.batch_alter_table("identity_endpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_endpoint_service_id"))

    op.drop_table("identity_endpoint")
    with op.batch_alter_table("identity_assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_assignment_target")

    op.drop_table("identity_assignment")
    op.drop_table("identity_service")
    op.drop_table("identity_role")
    with op.batch_alter_table("identity_revocation_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_revocation_event_revoked_at"))

    op.drop_table("identity_revocation_event")
    op.drop_table("identity_region")
    op.drop_table("identity_domain")
