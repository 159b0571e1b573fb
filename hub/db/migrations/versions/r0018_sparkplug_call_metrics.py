"""The last value of each Sparkplug metric mapped to a call, so that a hub restarted
(and the rebirth it asks for) raises no call again for a metric that stayed true."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sparkplug_call_metrics",
        sa.Column("group_id", sa.String(64), primary_key=True),
        sa.Column("edge_node_id", sa.String(64), primary_key=True),
        sa.Column("device_id", sa.String(64), primary_key=True),
        sa.Column("metric", sa.String(256), primary_key=True),
        sa.Column("value", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sparkplug_call_metrics")
