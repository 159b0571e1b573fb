"""Each edge's session number, so a late or forged ``offline`` of an older session is ignored."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("edges") as batch:
        # Edges known before sessions existed are at session 0, as their plain statuses are.
        batch.add_column(sa.Column("session", sa.BigInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("edges") as batch:
        batch.drop_column("session")
