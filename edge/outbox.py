"""A durable outbox: events are written here first and deleted only once the broker has them.

The outbox also owns the edge's sequence numbers, so they keep increasing across
restarts and the hub's deduplication stays correct.
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


@dataclass(frozen=True)
class OutboxEntry:
    seq: int
    topic: str
    body: str


class Outbox:
    """Pending events in SQLite (WAL), in sequence order."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def add(self, make_message: Callable[[int], tuple[str, str]]) -> int:
        """Take the next sequence number, build the message for it and store both atomically."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            (last,) = self._db.execute("SELECT last_seq FROM sequence").fetchone()
            seq = int(last) + 1
            topic, body = make_message(seq)
            self._db.execute("UPDATE sequence SET last_seq = ?", (seq,))
            self._db.execute(
                "INSERT INTO pending (seq, topic, body) VALUES (?, ?, ?)", (seq, topic, body)
            )
        return seq

    def pending(self, limit: int = 100) -> list[OutboxEntry]:
        rows = self._db.execute(
            "SELECT seq, topic, body FROM pending ORDER BY seq LIMIT ?", (limit,)
        ).fetchall()
        return [OutboxEntry(int(seq), str(topic), str(body)) for seq, topic, body in rows]

    def mark_sent(self, seq: int) -> None:
        self._db.execute("DELETE FROM pending WHERE seq = ?", (seq,))

    def pending_count(self) -> int:
        (count,) = self._db.execute("SELECT COUNT(*) FROM pending").fetchone()
        return int(count)

    def close(self) -> None:
        self._db.close()
