"""orchestration: a resource's metadata (its template's ``metadata`` section, resolved)

Revision ID: orchestration_0006_rsrc_metadata
Revises: orchestration_0005_actions
Create Date: 2026-12-05 18:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "orchestration_0006_rsrc_metadata"
down_revision = "orchestration_0005_actions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orchestration_resource") as batch:
        batch.add_column(sa.Column("rsrc_metadata", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orchestration_resource") as batch:
        batch.drop_column("rsrc_metadata")
