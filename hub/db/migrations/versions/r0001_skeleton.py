"""The walking skeleton's schema: processed events, calls and edges.

Timestamps are ``UtcDateTime``: text on SQLite, as the skeleton wrote them, and
TIMESTAMPTZ on PostgreSQL.

A database written by the skeleton has exactly these tables and no version table;
``hub.db.engine.upgrade`` stamps it at this revision and upgrades it from here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.tables import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("call_id", sa.Integer),
        sa.Column("received_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("site", sa.Text, nullable=False),
        sa.Column("area", sa.Text, nullable=False),
        sa.Column("line", sa.Text, nullable=False),
        sa.Column("station", sa.Text, nullable=False),
        sa.Column("call_type", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("presses", sa.Integer, nullable=False),
        sa.Column("first_event_id", sa.Text, nullable=False),
        sa.Column("raised_at", UtcDateTime, nullable=False),
        sa.Column("acknowledged_at", UtcDateTime),
        sa.Column("resolved_at", UtcDateTime),
        sa.Column("reason_code", sa.Text),
        sa.Column("note", sa.Text),
    )
    op.create_index(
        "calls_open", "calls", ["site", "area", "line", "station", "call_type", "state"]
    )
    op.create_table(
        "edges",
        sa.Column("edge_id", sa.Text, primary_key=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("changed_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("edges")
    op.drop_index("calls_open", "calls")
    op.drop_table("calls")
    op.drop_table("processed_events")
