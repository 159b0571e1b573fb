"""A durable outbox: events are written here first and deleted only once the broker has them.

The outbox also owns the edge's sequence numbers, so they keep increasing across
restarts and the hub's deduplication stays correct.

Measurement messages are *droppable*: they queue behind every call, anomaly and status
event (those are always sent first), and beyond a quota the oldest of them are dropped
and counted, so a long broker outage never crowds out a call.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    seq INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sequence (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL
);
INSERT OR IGNORE INTO sequence (id, last_seq) VALUES (1, 0);
"""

MessageBuilder = Callable[[int], tuple[str, str]]


@dataclass(frozen=True)
class OutboxEntry:
    seq: int
    topic: str
    body: str


class Outbox:
    """Pending events in SQLite (WAL), in sequence order."""

    def __init__(self, path: Path, *, max_droppable: int = 10_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.max_droppable = max_droppable
        self.dropped = 0
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        columns = [row[1] for row in self._db.execute("PRAGMA table_info(pending)")]
        if "droppable" not in columns:  # an outbox written before measurements existed
            self._db.execute("ALTER TABLE pending ADD COLUMN droppable INTEGER NOT NULL DEFAULT 0")

    def add(self, make_message: MessageBuilder) -> int:
        """Take the next sequence number, build the message for it and store both atomically."""
        return self.add_many([make_message])[0]

    def add_many(
        self, events: list[MessageBuilder], droppable: list[MessageBuilder] | None = None
    ) -> list[int]:
        """Store several messages in one transaction; ``droppable`` ones go behind the rest."""
        rows = [(build, 0) for build in events] + [(build, 1) for build in droppable or []]
        seqs = []
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            (last,) = self._db.execute("SELECT last_seq FROM sequence").fetchone()
            seq = int(last)
            for build, may_drop in rows:
                seq += 1
                topic, body = build(seq)
                self._db.execute(
                    "INSERT INTO pending (seq, topic, body, droppable) VALUES (?, ?, ?, ?)",
                    (seq, topic, body, may_drop),
                )
                seqs.append(seq)
            self._db.execute("UPDATE sequence SET last_seq = ?", (seq,))
            if droppable:
                self._enforce_quota()
        return seqs

    def _enforce_quota(self) -> None:
        (count,) = self._db.execute("SELECT COUNT(*) FROM pending WHERE droppable = 1").fetchone()
        excess = int(count) - self.max_droppable
        if excess > 0:
            self._db.execute(
                "DELETE FROM pending WHERE seq IN (SELECT seq FROM pending WHERE droppable = 1 "
                "ORDER BY seq LIMIT ?)",
                (excess,),
            )
            self.dropped += excess

    def pending(self, limit: int = 100) -> list[OutboxEntry]:
        """The next messages to send: events in order, then measurements in order."""
        rows = self._db.execute(
            "SELECT seq, topic, body FROM pending ORDER BY droppable, seq LIMIT ?", (limit,)
        ).fetchall()
        return [OutboxEntry(int(seq), str(topic), str(body)) for seq, topic, body in rows]

    def mark_sent(self, *seqs: int) -> None:
        """The broker has these: forget them (one transaction for all of them)."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("DELETE FROM pending WHERE seq = ?", [(seq,) for seq in seqs])

    def pending_count(self) -> int:
        (count,) = self._db.execute("SELECT COUNT(*) FROM pending").fetchone()
        return int(count)

    def close(self) -> None:
        self._db.close()
