"""When escalation commanded a call's line-stop output (null: never)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.tables import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("line_stop_at", UtcDateTime))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("line_stop_at")
