"""orchestration: a stack keeps what an update replaced (its template, environment, files,
parameters) until the update ends, for the rollback

Revision ID: orchestration_0002
Revises: orchestration_0001
Create Date: 2026-12-04 23:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "orchestration_0002"
down_revision = "orchestration_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orchestration_stack") as batch:
        batch.add_column(sa.Column("previous", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orchestration_stack") as batch:
        batch.drop_column("previous")
