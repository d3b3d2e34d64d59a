"""orchestration: a nested stack names its parent (owner_id)

Revision ID: orchestration_0004
Revises: orchestration_0003_software
Create Date: 2026-12-05 01:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "orchestration_0004"
down_revision = "orchestration_0003_software"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orchestration_stack") as batch:
        batch.add_column(sa.Column("owner_id", sa.String(36), nullable=True))
        batch.create_index("ix_orchestration_stack_owner_id", ["owner_id"])


def downgrade() -> None:
    with op.batch_alter_table("orchestration_stack") as batch:
        batch.drop_index("ix_orchestration_stack_owner_id")
        batch.drop_column("owner_id")
