"""Machines: each station's machine as its edge reports it, its state periods (downtime
with reasons) and the parts its counters added."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.tables import UtcDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "machines",
        sa.Column("line", sa.String(64), primary_key=True),
        sa.Column("station", sa.String(64), primary_key=True),
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("ideal_cycle_s", sa.Float),
        sa.Column("parts_last", sa.BigInteger),
        sa.Column("rejects_last", sa.BigInteger),
        sa.Column("seen_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "machine_periods",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("line", sa.String(64), nullable=False),
        sa.Column("station", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("ended_at", UtcDateTime),
        sa.Column("seconds", sa.Float),
        sa.Column("fault_code", sa.BigInteger),
        sa.Column("call_id", sa.Integer),
        sa.Column("fault_clears", sa.Boolean),
        sa.Column("reason", sa.String(64)),
        sa.Column("note", sa.Text),
        sa.Column("reason_by", sa.String(200)),
    )
    op.create_index("machine_periods_station", "machine_periods", ["station", "ended_at"])
    op.create_index("machine_periods_line", "machine_periods", ["line", "ended_at"])
    op.create_index("machine_periods_end", "machine_periods", ["ended_at"])
    op.create_table(
        "machine_counts",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("line", sa.String(64), nullable=False),
        sa.Column("station", sa.String(64), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("rejects", sa.BigInteger, nullable=False),
    )
    op.create_index("machine_counts_station", "machine_counts", ["station", "at"])
    op.create_index("machine_counts_line", "machine_counts", ["line", "at"])
    op.create_index("machine_counts_at", "machine_counts", ["at"])


def downgrade() -> None:
    op.drop_table("machine_counts")
    op.drop_table("machine_periods")
    op.drop_table("machines")
