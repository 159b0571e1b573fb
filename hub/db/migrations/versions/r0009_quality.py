"""The characteristic a call was raised for (an SPC anomaly's), so the knowledge base can
show how earlier calls on the same characteristic were fixed (null: not an SPC call)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("characteristic", sa.String(64)))
    op.create_index("calls_characteristic", "calls", ["characteristic"])


def downgrade() -> None:
    op.drop_index("calls_characteristic", table_name="calls")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("characteristic")
