"""image metadefs: metadata definition namespaces, resource types, objects, properties, tags;
and tasks of the tasks API (POST /v2/tasks), which have no image until they make one

Revision ID: image_0004
Revises: image_0003
Create Date: 2026-12-05 01:45:00
"""

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "image_0004"
down_revision = "image_0003"
branch_labels = None
depends_on = None


def _times() -> list[sa.Column]:
    return [
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=False),
    ]


def _namespace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["namespace_id"],
        ["image_metadef_namespace.id"],
        name=op.f(f"fk_{table}_namespace_id_image_metadef_namespace"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "image_metadef_namespace",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("namespace", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("visibility", sa.String(length=32), nullable=True),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=True),
        *_times(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_metadef_namespace")),
        sa.UniqueConstraint("namespace", name=op.f("uq_image_metadef_namespace_namespace")),
    )
    op.create_table(
        "image_metadef_resource_type",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        *_times(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_metadef_resource_type")),
        sa.UniqueConstraint("name", name=op.f("uq_image_metadef_resource_type_name")),
    )
    op.create_table(
        "image_metadef_association",
        sa.Column("namespace_id", sa.Integer(), nullable=False),
        sa.Column("resource_type_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=80), nullable=True),
        sa.Column("properties_target", sa.String(length=80), nullable=True),
        *_times(),
        _namespace_fk("image_metadef_association"),
        sa.ForeignKeyConstraint(
            ["resource_type_id"],
            ["image_metadef_resource_type.id"],
            name=op.f("fk_image_metadef_association_resource_type_id_image_metadef_resource_type"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "namespace_id", "resource_type_id", name=op.f("pk_image_metadef_association")
        ),
    )
    op.create_table(
        "image_metadef_object",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("namespace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("required", sa.JSON(), nullable=True),
        sa.Column("properties", sa.JSON(), nullable=True),
        *_times(),
        _namespace_fk("image_metadef_object"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_metadef_object")),
        sa.UniqueConstraint(
            "namespace_id", "name", name=op.f("uq_image_metadef_object_namespace_id_name")
        ),
    )
    op.create_table(
        "image_metadef_property",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("namespace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("json_schema", sa.JSON(), nullable=False),
        *_times(),
        _namespace_fk("image_metadef_property"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_metadef_property")),
        sa.UniqueConstraint(
            "namespace_id", "name", name=op.f("uq_image_metadef_property_namespace_id_name")
        ),
    )
    op.create_table(
        "image_metadef_tag",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("namespace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        *_times(),
        _namespace_fk("image_metadef_tag"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_metadef_tag")),
        sa.UniqueConstraint(
            "namespace_id", "name", name=op.f("uq_image_metadef_tag_namespace_id_name")
        ),
    )
    for table in ("image_metadef_object", "image_metadef_property", "image_metadef_tag"):
        op.create_index(op.f(f"ix_{table}_namespace_id"), table, ["namespace_id"])
    with op.batch_alter_table("image_task") as batch:
        batch.alter_column("image_id", existing_type=sa.String(length=36), nullable=True)
        batch.add_column(sa.Column("runner", sa.String(length=255), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM image_task WHERE image_id IS NULL")
    with op.batch_alter_table("image_task") as batch:
        batch.drop_column("runner")
        batch.alter_column("image_id", existing_type=sa.String(length=36), nullable=False)
    for table in ("image_metadef_object", "image_metadef_property", "image_metadef_tag"):
        op.drop_index(op.f(f"ix_{table}_namespace_id"), table_name=table)
    for table in (
        "image_metadef_tag",
        "image_metadef_property",
        "image_metadef_object",
        "image_metadef_association",
        "image_metadef_resource_type",
        "image_metadef_namespace",
    ):
        op.drop_table(table)
