"""orchestration: a nested stack's view of its parent resource (for ``resource_facade``)

Revision ID: orchestration_0007_facade
Revises: orchestration_0006_rsrc_metadata
Create Date: 2026-12-05 21:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "orchestration_0007_facade"
down_revision = "orchestration_0006_rsrc_metadata"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orchestration_stack") as batch:
        batch.add_column(sa.Column("facade", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orchestration_stack") as batch:
        batch.drop_column("facade")
