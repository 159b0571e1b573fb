"""Escalation state per call, the delivery log, SPC alarm groups and used ack links."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.tables import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("call_id", sa.Integer, sa.ForeignKey("calls.id"), primary_key=True),
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("snapshot", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("base_at", UtcDateTime, nullable=False),
        sa.Column("last_offset_s", sa.Integer),
        sa.Column("due_at", UtcDateTime),
        sa.Column("ack_timeout_s", sa.Integer, nullable=False),
        sa.Column("line_stop_due_at", UtcDateTime),
        sa.Column("resumed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("stop_reason", sa.String(32)),
    )
    op.create_index("escalations_due", "escalations", ["due_at"])
    op.create_index("escalations_line_stop_due", "escalations", ["line_stop_due_at"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("call_id", sa.Integer, sa.ForeignKey("calls.id")),
        sa.Column("alarm_group", sa.String(400)),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("step_s", sa.Integer, nullable=False),
        sa.Column("person", sa.String(64)),
        sa.Column("via", sa.String(80), nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("started_at", UtcDateTime),
        sa.Column("finished_at", UtcDateTime),
        sa.Column("lease_until", UtcDateTime),
        sa.Column("retry_at", UtcDateTime),
    )
    op.create_index("ix_notifications_call_id", "notifications", ["call_id"])
    op.create_index("notifications_key_attempt", "notifications", ["key", "attempt"], unique=True)
    op.create_index("notifications_status", "notifications", ["status"])
    op.create_table(
        "alarm_groups",
        sa.Column("key", sa.String(400), primary_key=True),
        sa.Column("last_notified_at", UtcDateTime),
        sa.Column("last_anomaly_id", sa.Integer, nullable=False),
        sa.Column("held", sa.Integer, nullable=False),
        sa.Column("inhibited", sa.Integer, nullable=False),
    )
    op.create_table(
        "hub_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "ack_links_used",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("call_id", sa.Integer, nullable=False),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("used_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("ack_links_used", "hub_state", "alarm_groups", "notifications", "escalations"):
        op.drop_table(table)
