"""image upload owner: which process receives an image's data

Revision ID: image_0003
Revises: image_0002
Create Date: 2026-11-26 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "image_0003"
down_revision = "image_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("image_image") as batch:
        batch.add_column(sa.Column("upload_owner", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("image_image") as batch:
        batch.drop_column("upload_owner")
