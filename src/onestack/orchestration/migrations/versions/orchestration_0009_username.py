"""orchestration: the name of the user who made a stack (Heat's stack_owner, its username filter)

Revision ID: orchestration_0009_username
Revises: orchestration_0008_service
Create Date: 2026-12-06 08:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "orchestration_0009_username"
down_revision = "orchestration_0008_service"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orchestration_stack") as batch:
        batch.add_column(sa.Column("username", sa.String(255), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("orchestration_stack") as batch:
        batch.drop_column("username")
