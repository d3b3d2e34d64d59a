"""image initial schema

Revision ID: image_0001
Revises:
Create Date: 2026-11-25 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "image_0001"
down_revision = None
branch_labels = ("image",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "image_image",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("visibility", sa.String(length=20), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("os_hidden", sa.Boolean(), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("disk_format", sa.String(length=20), nullable=True),
        sa.Column("container_format", sa.String(length=20), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("virtual_size", sa.BigInteger(), nullable=True),
        sa.Column("checksum", sa.String(length=32), nullable=True),
        sa.Column("os_hash_algo", sa.String(length=64), nullable=True),
        sa.Column("os_hash_value", sa.String(length=128), nullable=True),
        sa.Column("min_disk", sa.Integer(), nullable=False),
        sa.Column("min_ram", sa.Integer(), nullable=False),
        sa.Column("store", sa.String(length=64), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("staged", sa.JSON(), nullable=True),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_image")),
    )
    for column in ("name", "status", "visibility", "owner", "os_hash_value"):
        op.create_index(op.f(f"ix_image_image_{column}"), "image_image", [column], unique=False)
    op.create_table(
        "image_property",
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["image_image.id"],
            name=op.f("fk_image_property_image_id_image_image"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("image_id", "name", name=op.f("pk_image_property")),
    )
    op.create_table(
        "image_tag",
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["image_image.id"],
            name=op.f("fk_image_tag_image_id_image_image"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("image_id", "value", name=op.f("pk_image_tag")),
    )
    op.create_index(op.f("ix_image_tag_value"), "image_tag", ["value"], unique=False)
    op.create_table(
        "image_member",
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("member", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["image_image.id"],
            name=op.f("fk_image_member_image_id_image_image"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("image_id", "member", name=op.f("pk_image_member")),
    )
    op.create_index(op.f("ix_image_member_member"), "image_member", ["member"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_image_member_member"), table_name="image_member")
    op.drop_table("image_member")
    op.drop_index(op.f("ix_image_tag_value"), table_name="image_tag")
    op.drop_table("image_tag")
    op.drop_table("image_property")
    for column in ("name", "status", "visibility", "owner", "os_hash_value"):
        op.drop_index(op.f(f"ix_image_image_{column}"), table_name="image_image")
    op.drop_table("image_image")
