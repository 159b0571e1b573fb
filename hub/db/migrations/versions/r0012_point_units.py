"""The unit of each SPC point and of each characteristic's newest lines (the edge's
measurement ``unit:``, which points carry on the wire since this revision; null for
points stored before it or sent by an older edge)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("spc_points", "characteristics"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("unit", sa.String(32)))


def downgrade() -> None:
    for table in ("spc_points", "characteristics"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("unit")
