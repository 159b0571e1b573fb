"""Recurrences: the earlier call a call recurs (the same reason code or characteristic at
the same station within the hub's ``recurrence_days`` of its fix), and the root cause
and countermeasure a responder gives when resolving one."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None

COLUMNS = ("recurrence_of", "root_cause", "countermeasure")


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("recurrence_of", sa.Integer))
        batch.add_column(sa.Column("root_cause", sa.Text))
        batch.add_column(sa.Column("countermeasure", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
