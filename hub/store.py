"""The hub's state in SQLite (WAL): processed event ids, calls, and edge liveness."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from contract.wire import Event

_SCHEMA = """
CREATE TABLE IF NOT EXISTS processed_events (
    event_id TEXT PRIMARY KEY,
    call_id INTEGER,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
    area TEXT NOT NULL,
    line TEXT NOT NULL,
    station TEXT NOT NULL,
    call_type TEXT NOT NULL,
    state TEXT NOT NULL,
    presses INTEGER NOT NULL,
    first_event_id TEXT NOT NULL,
    raised_at TEXT NOT NULL,
    acknowledged_at TEXT,
    resolved_at TEXT,
    reason_code TEXT,
    note TEXT
);
CREATE INDEX IF NOT EXISTS calls_open ON calls (site, area, line, station, call_type, state);
CREATE TABLE IF NOT EXISTS edges (
    edge_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
"""


class CallState(StrEnum):
    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


OPEN_STATES = (CallState.RAISED, CallState.ACKNOWLEDGED)

# Which state each action leads to, and from which states it is allowed.
TRANSITIONS: dict[str, tuple[CallState, tuple[CallState, ...]]] = {
    "acknowledge": (CallState.ACKNOWLEDGED, (CallState.RAISED,)),
    "resolve": (CallState.RESOLVED, OPEN_STATES),
}


class IngestOutcome(StrEnum):
    NEW_CALL = "new_call"
    JOINED = "joined"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Call:
    id: int
    site: str
    area: str
    line: str
    station: str
    call_type: str
    state: CallState
    presses: int
    first_event_id: str
    raised_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    reason_code: str | None
    note: str | None


class CallNotFound(LookupError):
    """No call has that id."""


class TransitionRefused(ValueError):
    """The call is not in a state that allows the action."""


class Store:
    """Thread-safe access to one SQLite file (the API runs sync handlers in threads)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def ingest_call(self, event: Event, received_at: datetime) -> tuple[IngestOutcome, int]:
        """Apply one call event exactly once: open a call or join the open one."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            seen = self._db.execute(
                "SELECT call_id FROM processed_events WHERE event_id = ?", (event.event_id,)
            ).fetchone()
            if seen is not None:
                return IngestOutcome.DUPLICATE, int(seen["call_id"])
            key = (event.site, event.area, event.line, event.station, event.payload.call_type)
            open_call = self._db.execute(
                "SELECT id FROM calls WHERE site = ? AND area = ? AND line = ? AND station = ?"
                " AND call_type = ? AND state IN (?, ?) ORDER BY id LIMIT 1",
                (*key, *OPEN_STATES),
            ).fetchone()
            if open_call is not None:
                call_id, outcome = int(open_call["id"]), IngestOutcome.JOINED
                self._db.execute("UPDATE calls SET presses = presses + 1 WHERE id = ?", (call_id,))
            else:
                cursor = self._db.execute(
                    "INSERT INTO calls (site, area, line, station, call_type, state, presses,"
                    " first_event_id, raised_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
                    (*key, CallState.RAISED, event.event_id, event.ts.isoformat()),
                )
                call_id, outcome = int(cursor.lastrowid or 0), IngestOutcome.NEW_CALL
            self._db.execute(
                "INSERT INTO processed_events (event_id, call_id, received_at) VALUES (?, ?, ?)",
                (event.event_id, call_id, received_at.isoformat()),
            )
            return outcome, call_id

    def list_calls(self, *, state: CallState | None = None, line: str | None = None) -> list[Call]:
        where, params = [], []
        if state is not None:
            where.append("state = ?")
            params.append(str(state))
        if line is not None:
            where.append("line = ?")
            params.append(line)
        sql = "SELECT * FROM calls"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id", params).fetchall()
        return [_call_from_row(row) for row in rows]

    def get_call(self, call_id: int) -> Call:
        with self._lock:
            row = self._db.execute("SELECT * FROM calls WHERE id = ?", (call_id,)).fetchone()
        if row is None:
            raise CallNotFound(call_id)
        return _call_from_row(row)

    def transition(
        self,
        call_id: int,
        action: str,
        now: datetime,
        *,
        reason_code: str | None = None,
        note: str | None = None,
    ) -> Call:
        """Move a call along its lifecycle; raise CallNotFound or TransitionRefused."""
        target, allowed_from = TRANSITIONS[action]
        stamp_column = f"{target}_at"
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute("SELECT state FROM calls WHERE id = ?", (call_id,)).fetchone()
            if row is None:
                raise CallNotFound(call_id)
            if row["state"] not in allowed_from:
                raise TransitionRefused(f"call {call_id} is {row['state']}; cannot {action} it")
            self._db.execute(
                f"UPDATE calls SET state = ?, {stamp_column} = ?,"
                " reason_code = COALESCE(?, reason_code), note = COALESCE(?, note) WHERE id = ?",
                (target, now.isoformat(), reason_code, note, call_id),
            )
        return self.get_call(call_id)

    def set_edge_status(self, edge_id: str, status: str, now: datetime) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO edges (edge_id, status, changed_at) VALUES (?, ?, ?)"
                " ON CONFLICT (edge_id) DO UPDATE SET status = excluded.status,"
                " changed_at = excluded.changed_at",
                (edge_id, status, now.isoformat()),
            )

    def list_edges(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM edges ORDER BY edge_id").fetchall()
        return [dict(row) for row in rows]


def _parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _call_from_row(row: sqlite3.Row) -> Call:
    raised_at = datetime.fromisoformat(row["raised_at"])
    return Call(
        id=row["id"],
        site=row["site"],
        area=row["area"],
        line=row["line"],
        station=row["station"],
        call_type=row["call_type"],
        state=CallState(row["state"]),
        presses=row["presses"],
        first_event_id=row["first_event_id"],
        raised_at=raised_at,
        acknowledged_at=_parse_time(row["acknowledged_at"]),
        resolved_at=_parse_time(row["resolved_at"]),
        reason_code=row["reason_code"],
        note=row["note"],
    )
