"""The whole call lifecycle with its timeline, API tokens and the audit log.

Existing calls keep their state; their raised, acknowledged and resolved times become
the first entries of their timelines, and the hub's receipt time is taken from the
processed event that opened them. SQLite timestamps are rewritten to one fixed width so
that they sort as times.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

from hub.db.tables import OPEN_CALL_KEY, OPEN_STATE_CONDITION, UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_NEW_CALL_TIMES = ("received_at", "arrived_at", "verified_at", "cancelled_at")


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        for column in _NEW_CALL_TIMES:
            batch.add_column(sa.Column(column, UtcDateTime))
        batch.add_column(sa.Column("acknowledged_by", sa.String(200)))
        batch.add_column(sa.Column("cancel_reason", sa.Text))
        batch.add_column(
            sa.Column("needs_verification", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.create_table(
        "call_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.Integer, sa.ForeignKey("calls.id"), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_call_events_call_id", "call_events", ["call_id"])
    condition = sa.text(OPEN_STATE_CONDITION)
    op.create_index(
        "calls_one_open",
        "calls",
        list(OPEN_CALL_KEY),
        unique=True,
        sqlite_where=condition,
        postgresql_where=condition,
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("revoked_at", UtcDateTime),
    )
    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    _carry_over_existing_calls()


def _carry_over_existing_calls() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _normalise_sqlite_times(bind)
    bind.execute(
        sa.text(
            "UPDATE calls SET received_at = (SELECT received_at FROM processed_events"
            " WHERE processed_events.event_id = calls.first_event_id)"
        )
    )
    for action, state, column in (
        ("raised", "raised", "raised_at"),
        ("acknowledged", "acknowledged", "acknowledged_at"),
        ("resolved", "resolved", "resolved_at"),
    ):
        bind.execute(
            sa.text(
                "INSERT INTO call_events (call_id, at, action, state, actor, source, detail)"
                f" SELECT id, {column}, :action, :state, :actor, :source, :detail FROM calls"
                f" WHERE {column} IS NOT NULL ORDER BY id"
            ),
            {
                "action": action,
                "state": state,
                "actor": "station" if action == "raised" else "unknown",
                "source": "station" if action == "raised" else "api",
                "detail": "{}",
            },
        )


def _normalise_sqlite_times(bind: sa.Connection) -> None:
    """The skeleton wrote ``isoformat()``, which drops the microseconds when they are 0."""
    for table, key, columns in (
        ("calls", "id", ("raised_at", "acknowledged_at", "resolved_at")),
        ("processed_events", "event_id", ("received_at",)),
        ("edges", "edge_id", ("changed_at",)),
    ):
        rows = bind.execute(sa.text(f"SELECT {key}, {', '.join(columns)} FROM {table}"))
        for row in rows.fetchall():
            values = {
                column: _fixed_width(text) for column, text in zip(columns, row[1:], strict=True)
            }
            sets = ", ".join(f"{column} = :{column}" for column in columns)
            bind.execute(
                sa.text(f"UPDATE {table} SET {sets} WHERE {key} = :key"), {**values, "key": row[0]}
            )


def _fixed_width(text: str | None) -> str | None:
    if text is None:
        return None
    return datetime.fromisoformat(text).isoformat(timespec="microseconds")


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("api_tokens")
    op.drop_index("ix_call_events_call_id", "call_events")
    op.drop_index("calls_one_open", "calls")
    op.drop_table("call_events")
    with op.batch_alter_table("calls") as batch:
        for column in (*_NEW_CALL_TIMES, "acknowledged_by", "cancel_reason", "needs_verification"):
            batch.drop_column(column)
