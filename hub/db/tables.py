"""The hub's tables, in SQLAlchemy Core: one definition for SQLite and PostgreSQL.

Migrations in ``hub/db/migrations`` create and change them; this module is what the code
reads and writes through.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
    text,
)
from sqlalchemy.types import DateTime, TypeDecorator, TypeEngine

metadata = MetaData()
# The columns the first release created are TEXT (its schema, which migration 0001 keeps);
# names are bounded by the wire contract and the configuration, not by the column.


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime: TIMESTAMPTZ on PostgreSQL, fixed-width ISO 8601 text on SQLite.

    The skeleton stored ISO 8601 text in SQLite; the fixed width (always microseconds,
    always +00:00) keeps that text sortable, so time-range filters compare correctly.
    """

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(String(32))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a UTC time")
        value = value.astimezone(UTC)
        if dialect.name == "postgresql":
            return value
        return value.isoformat(timespec="microseconds")

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        return parsed.astimezone(UTC)


processed_events = Table(
    "processed_events",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("call_id", Integer),
    Column("received_at", UtcDateTime, nullable=False),
)

calls = Table(
    "calls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site", Text, nullable=False),
    Column("area", Text, nullable=False),
    Column("line", Text, nullable=False),
    Column("station", Text, nullable=False),
    Column("call_type", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("presses", Integer, nullable=False),
    Column("first_event_id", Text, nullable=False),
    Column("raised_at", UtcDateTime, nullable=False),  # the press, by the edge's clock
    Column("received_at", UtcDateTime),  # the hub's receipt of that press
    Column("acknowledged_at", UtcDateTime),
    Column("arrived_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    Column("verified_at", UtcDateTime),
    Column("cancelled_at", UtcDateTime),
    Column("acknowledged_by", String(200)),
    Column("reason_code", Text),
    Column("note", Text),
    Column("cancel_reason", Text),
    Column("needs_verification", Boolean, nullable=False, server_default=false()),
    Column("part_serial", String(128)),  # the part at the station when it was raised
    Column("part_lot", String(128)),
    # When escalation commanded the station's line-stop output for this call.
    Column("line_stop_at", UtcDateTime),
    # The SPC characteristic a call was raised for (migration 0009; null: not an SPC call).
    Column("characteristic", String(64)),
    # Recurrences (migration 0017): the earlier call this one recurs, and what the
    # responder found and did about it (hub/calls/recurrence.py).
    Column("recurrence_of", Integer),
    Column("root_cause", Text),
    Column("countermeasure", Text),
)
Index("calls_characteristic", calls.c.characteristic)
Index(
    "calls_open",
    *(calls.c[name] for name in ("site", "area", "line", "station", "call_type", "state")),
)
# At most one open call per station and call type, whoever raises it: two writers that
# both found none (a press and a panel, two hubs) cannot both open one.
OPEN_CALL_KEY = ("site", "area", "line", "station", "call_type")
OPEN_STATE_CONDITION = "state IN ('raised', 'acknowledged', 'arrived')"
Index(
    "calls_one_open",
    *(calls.c[name] for name in OPEN_CALL_KEY),
    unique=True,
    sqlite_where=text(OPEN_STATE_CONDITION),
    postgresql_where=text(OPEN_STATE_CONDITION),
)

call_events = Table(
    "call_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", Integer, ForeignKey("calls.id"), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("action", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("source", String(16), nullable=False),
    Column("detail", JSON, nullable=False),
)

edges = Table(
    "edges",
    metadata,
    Column("edge_id", Text, primary_key=True),
    Column("status", Text, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    # The edge's connection count when it set ``status``: older sessions cannot undo it.
    Column("session", BigInteger, nullable=False, server_default="0"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("lines", JSON, nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(200), nullable=False),
    Column("detail", JSON, nullable=False),
)

anomalies = Table(
    "anomalies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(200), nullable=False, unique=True),
    Column("site", String(64), nullable=False),
    Column("area", String(64), nullable=False),
    Column("line", String(64), nullable=False),
    Column("station", String(64), nullable=False),
    Column("characteristic", String(64), nullable=False, index=True),
    Column("chart", String(16), nullable=False),
    Column("measurement", String(64), nullable=False),
    Column("tests", JSON, nullable=False),
    Column("value", Float, nullable=False),
    Column("center", Float, nullable=False),
    Column("lcl", Float, nullable=False),
    Column("ucl", Float, nullable=False),
    Column("subgroup", BigInteger, nullable=False),
    Column("part_serial", String(128)),
    Column("part_lot", String(128)),
    Column("detected_at", UtcDateTime, nullable=False),  # by the edge's clock
    Column("received_at", UtcDateTime, nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("edge_id", String(64), primary_key=True),
    Column("device", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("reason", String(256), nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    # The line of the edge's status event (migration 0011); null before it.
    Column("line", String(64)),
)
Index("devices_line", devices.c.line)

# -- escalation (migration 0005) -------------------------------------------------------

escalations = Table(
    "escalations",
    metadata,
    # One row per call under escalation, written in the transaction that raises the call.
    Column("call_id", Integer, ForeignKey("calls.id"), primary_key=True),
    Column("policy_id", String(64), nullable=False),
    Column("snapshot", JSON, nullable=False),  # the policy, people and rosters as raised
    Column("status", String(16), nullable=False),  # active, ack_wait, stopped
    Column("base_at", UtcDateTime, nullable=False),  # step offsets count from here
    Column("last_offset_s", Integer),  # the offset of the last step sent (None: none yet)
    Column("due_at", UtcDateTime),  # when the next step (or the resumption) is due
    Column("ack_timeout_s", Integer, nullable=False),
    Column("line_stop_due_at", UtcDateTime),
    Column("resumed", Boolean, nullable=False, server_default=false()),
    Column("stop_reason", String(32)),
)
Index("escalations_due", escalations.c.due_at)
Index("escalations_line_stop_due", escalations.c.line_stop_due_at)

notifications = Table(
    "notifications",
    metadata,
    # The delivery log: one row per attempt of one message to one channel.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),  # the same for every attempt: idempotency
    Column("attempt", Integer, nullable=False),
    Column("call_id", Integer, ForeignKey("calls.id"), index=True),
    Column("alarm_group", String(400)),  # an SPC alarm group instead of a call
    Column("level", Integer, nullable=False),
    Column("step_s", Integer, nullable=False),
    Column("person", String(64)),
    Column("via", String(80), nullable=False),
    Column("channel", Text, nullable=False),  # redacted
    Column("url", Text, nullable=False),  # as configured: secret references unresolved
    Column("body", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # queued, sending, sent, failed, unknown
    Column("error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    Column("lease_until", UtcDateTime),  # a sending attempt is the sender's until then
    Column("retry_at", UtcDateTime),  # a failed attempt is tried again then
)
Index("notifications_key_attempt", notifications.c.key, notifications.c.attempt, unique=True)
Index("notifications_status", notifications.c.status)

alarm_groups = Table(
    "alarm_groups",
    metadata,
    # SPC anomalies of one characteristic at one station: notified once per interval.
    Column("key", String(400), primary_key=True),
    Column("last_notified_at", UtcDateTime),
    Column("last_anomaly_id", Integer, nullable=False),
    Column("held", Integer, nullable=False),  # anomalies since the last notification
    Column("inhibited", Integer, nullable=False),  # held back by a line-down call
)

hub_state = Table(
    "hub_state",
    metadata,
    # Small values the hub keeps for itself: the ack-link key, the anomaly cursor.
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

ack_links_used = Table(
    "ack_links_used",
    metadata,
    Column("nonce", String(64), primary_key=True),
    Column("call_id", Integer, nullable=False),
    Column("person", String(200), nullable=False),
    Column("used_at", UtcDateTime, nullable=False),
)


# -- measurements (migration 0007): SPC points, characteristics, quality counters --------

_BIG_ID = BigInteger().with_variant(Integer, "sqlite")

spc_points = Table(
    "spc_points",
    metadata,
    Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    Column("characteristic", String(64), nullable=False),
    Column("chart", String(16), nullable=False),
    Column("site", String(64), nullable=False),
    Column("area", String(64), nullable=False),
    Column("line", String(64), nullable=False),
    Column("station", String(64), nullable=False),
    Column("edge_id", String(64), nullable=False),
    Column("measurement", String(64), nullable=False),
    Column("subgroup", BigInteger, nullable=False),
    Column("value", Float, nullable=False),
    Column("center", Float, nullable=False),
    Column("lcl", Float, nullable=False),
    Column("ucl", Float, nullable=False),
    Column("tests", JSON, nullable=False),
    Column("part_serial", String(128)),
    Column("part_lot", String(128)),
    Column("at", UtcDateTime, nullable=False),  # the poll cycle, by the edge's clock
    Column("received_at", UtcDateTime, nullable=False),
    Column("unit", String(32)),  # migration 0012; null from an edge that sends none
)
Index("ix_spc_points_characteristic", spc_points.c.characteristic, spc_points.c.id)
Index("ix_spc_points_at", spc_points.c.at)

# The newest lines of each characteristic at each station (one row each, updated).
characteristics = Table(
    "characteristics",
    metadata,
    Column("characteristic", String(64), primary_key=True),
    Column("area", String(64), primary_key=True),
    Column("line", String(64), primary_key=True),
    Column("station", String(64), primary_key=True),
    Column("chart", String(16), nullable=False),
    Column("measurement", String(64), nullable=False),
    Column("edge_id", String(64), nullable=False),
    Column("center", Float, nullable=False),
    Column("lcl", Float, nullable=False),
    Column("ucl", Float, nullable=False),
    Column("last_subgroup", BigInteger, nullable=False),
    Column("last_point_at", UtcDateTime, nullable=False),
    Column("unit", String(32)),  # migration 0012: the newest point's unit
)

# The last measurement message applied from each edge: redeliveries are not counted twice.
measurement_edges = Table(
    "measurement_edges",
    metadata,
    Column("edge_id", String(64), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
)

# The last value of each quality counter, to turn the next reading into an increment.
quality_counters = Table(
    "quality_counters",
    metadata,
    Column("line", String(64), primary_key=True),
    Column("station", String(64), primary_key=True),
    Column("counter", String(16), primary_key=True),  # inspected, defective, reworked
    Column("value", BigInteger, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

# Parts counted per station and hour (UTC), summed from the counters' increments.
quality_counts = Table(
    "quality_counts",
    metadata,
    Column("line", String(64), primary_key=True),
    Column("station", String(64), primary_key=True),
    Column("hour", UtcDateTime, primary_key=True),
    Column("area", String(64), nullable=False),
    Column("inspected", BigInteger, nullable=False),
    Column("defective", BigInteger, nullable=False),
    Column("reworked", BigInteger, nullable=False),
)

# -- messages set aside (migration 0011) -----------------------------------------------

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("path", String(16), nullable=False),  # event or measurement
    Column("topic", String(512), nullable=False),  # control characters escaped
    Column("edge_id", String(64)),  # from the envelope, when it was valid
    Column("seq", BigInteger),
    Column("reason", String(32), nullable=False),  # set_aside, internal
    Column("detail", String(1000), nullable=False),  # what the database said
    Column("payload_size", Integer, nullable=False),
    # The message as received, base64: it may hold any byte, NUL included.
    Column("payload_base64", Text, nullable=False),
)

# -- photos on calls (migration 0015) --------------------------------------------------

call_photos = Table(
    "call_photos",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", Integer, ForeignKey("calls.id"), nullable=False, index=True),
    Column("content_type", String(32), nullable=False),  # image/jpeg, image/png, image/webp
    Column("bytes", Integer, nullable=False),  # the stored image's size
    Column("thumb_bytes", Integer, nullable=False),  # its thumbnail's: both count to the quota
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("by", String(200), nullable=False),  # who uploaded it (the token's name today)
)

# The last value of each Sparkplug metric mapped to a call (migration 0018): a hub that
# restarts and asks for a rebirth raises no call again for a metric that stayed true.
sparkplug_call_metrics = Table(
    "sparkplug_call_metrics",
    metadata,
    Column("group_id", String(64), primary_key=True),
    Column("edge_node_id", String(64), primary_key=True),
    Column("device_id", String(64), primary_key=True),  # "" for the node's own metric
    Column("metric", String(256), primary_key=True),
    Column("value", Boolean, nullable=False),
)

# -- roster overrides (migration 0019) -------------------------------------------------

roster_overrides = Table(
    "roster_overrides",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # ``person`` answers instead of ``covers`` from ``starts_at`` to ``ends_at`` (UTC).
    Column("person", String(64), nullable=False),
    Column("covers", String(64), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("timezone", String(64), nullable=False),  # the site's when it was made
    Column("note", String(500), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Index("ix_roster_overrides_ends_at", "ends_at"),
)

# -- people's accounts and their sign-ins (migration 0020) ------------------------------

# A person who signs in: a local account (an argon2id hash) or one the directory vouched
# for at its last sign-in (no hash: the directory checks the password every time).
accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("lines", JSON, nullable=False),
    Column("person", String(64)),  # a ``people:`` id of the escalation configuration
    Column("source", String(16), nullable=False),  # local or ldap
    Column("password_hash", String(200)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("disabled_at", UtcDateTime),
)

# One sign-in: a bearer token (only its SHA-256 kept, as for API tokens) for one shift.
sign_ins = Table(
    "sign_ins",
    metadata,
    Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    Column("account", String(64), ForeignKey("accounts.name"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),
)

# -- machines: states, downtime and part counts (migration 0021) ------------------------

# Each machine the edges report: its open state and its counters' last readings.
machines = Table(
    "machines",
    metadata,
    Column("line", String(64), primary_key=True),
    Column("station", String(64), primary_key=True),
    Column("area", String(64), nullable=False),
    Column("ideal_cycle_s", Float),
    Column("parts_last", BigInteger),
    Column("rejects_last", BigInteger),
    Column("seen_at", UtcDateTime, nullable=False),  # the edge's time of its last report
)

# Each stretch of one state (and fault code) of a machine, by the edge's clock; the open
# one has no end. ``seconds`` is end - start once it ended.
machine_periods = Table(
    "machine_periods",
    metadata,
    Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    Column("area", String(64), nullable=False),
    Column("line", String(64), nullable=False),
    Column("station", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),
    Column("seconds", Float),
    Column("fault_code", BigInteger),
    Column("call_id", Integer),
    Column("fault_clears", Boolean),  # its fault's call is resolved when the code clears
    Column("reason", String(64)),
    Column("note", Text),
    Column("reason_by", String(200)),
)
# A period overlaps [since, until) when it ends after since (or lasts): found by its end.
Index("machine_periods_station", machine_periods.c.station, machine_periods.c.ended_at)
Index("machine_periods_line", machine_periods.c.line, machine_periods.c.ended_at)
Index("machine_periods_end", machine_periods.c.ended_at)

# Parts a machine's counters added, each at the moment its edge read them.
machine_counts = Table(
    "machine_counts",
    metadata,
    Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    Column("area", String(64), nullable=False),
    Column("line", String(64), nullable=False),
    Column("station", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("rejects", BigInteger, nullable=False),
)
Index("machine_counts_station", machine_counts.c.station, machine_counts.c.at)
Index("machine_counts_line", machine_counts.c.line, machine_counts.c.at)
Index("machine_counts_at", machine_counts.c.at)
