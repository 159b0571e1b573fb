"""A durable outbox: events are written here first and deleted only once they are settled.

An event is settled when the hub confirms it (after its commit) or rejects it for good;
a measurement batch when the broker has it (the hub is not its only reader, and it is
droppable anyway). The outbox also owns the edge's sequence numbers and its session
numbers, so both keep increasing across restarts: the hub's deduplication and its
session checks stay correct.

Measurement messages are *droppable*: they queue behind every call, anomaly and status
event (those are always sent first), and beyond a quota (a count and a size on disk) the
oldest of them are dropped and counted, so a long outage never crowds out a call. Calls,
arrivals, anomalies, faults and status events are never dropped, whatever their size.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Container
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

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
CREATE TABLE IF NOT EXISTS session (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_session INTEGER NOT NULL
);
INSERT OR IGNORE INTO session (id, last_session) VALUES (1, 0);
"""

MessageBuilder = Callable[[int], tuple[str, str]]
# Deleted in statements of at most this many sequence numbers (SQLite's parameter limit).
_CHUNK = 500
# A stored message's length in characters (as ``len`` counts it when it is stored).
_SIZE = "COALESCE(size, LENGTH(body))"


@dataclass
class SentUpto:
    """The highest sequence number sent of each kind, in outbox order: every message up
    to it is on its way or settled (0: look from the start)."""

    events: int = 0
    measurements: int = 0

    def advance(self, entry: OutboxEntry) -> None:
        if entry.droppable:
            self.measurements = max(self.measurements, entry.seq)
        else:
            self.events = max(self.events, entry.seq)


@dataclass(frozen=True)
class OutboxEntry:
    seq: int
    topic: str
    body: str
    droppable: bool = False


class Outbox:
    """Pending events in SQLite (WAL), in sequence order."""

    def __init__(
        self, path: Path, *, max_droppable: int = 10_000, max_droppable_bytes: int = 100 << 20
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.max_droppable = max_droppable
        self.max_droppable_bytes = max_droppable_bytes
        self.dropped = 0
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        columns = [row[1] for row in self._db.execute("PRAGMA table_info(pending)")]
        if "droppable" not in columns:  # an outbox written before measurements existed
            self._db.execute("ALTER TABLE pending ADD COLUMN droppable INTEGER NOT NULL DEFAULT 0")
        if "size" not in columns:
            # The body's length, stored: SQLite's LENGTH() of a text reads all of it, which
            # for a 40 kB measurement message cost more than the rest of its delete.
            # Rows of an older outbox keep NULL and are measured as before (``_SIZE``).
            self._db.execute("ALTER TABLE pending ADD COLUMN size INTEGER")
        (count, size) = self._db.execute(
            f"SELECT COUNT(*), COALESCE(SUM({_SIZE}), 0) FROM pending WHERE droppable = 1"
        ).fetchone()
        self._droppable = (int(count), int(size))

    def add(self, make_message: MessageBuilder) -> int:
        """Take the next sequence number, build the message for it and store both atomically."""
        return self.add_many([make_message])[0]

    def add_many(
        self, events: list[MessageBuilder], droppable: list[MessageBuilder] | None = None
    ) -> list[int]:
        """Store several messages in one transaction; ``droppable`` ones go behind the rest."""
        rows = [(build, 0) for build in events] + [(build, 1) for build in droppable or []]
        seqs = []
        count, size = self._droppable
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            (last,) = self._db.execute("SELECT last_seq FROM sequence").fetchone()
            seq = int(last)
            for build, may_drop in rows:
                seq += 1
                topic, body = build(seq)
                self._db.execute(
                    "INSERT INTO pending (seq, topic, body, droppable, size) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (seq, topic, body, may_drop, len(body)),
                )
                if may_drop:
                    count, size = count + 1, size + len(body)
                seqs.append(seq)
            self._db.execute("UPDATE sequence SET last_seq = ?", (seq,))
            self._droppable = (count, size)
            if droppable:
                self._enforce_quota()
        return seqs

    def _enforce_quota(self) -> None:
        """Drop the oldest measurements while over either quota (count or bytes)."""
        count, size = self._droppable
        dropped = 0
        while count > self.max_droppable or size > self.max_droppable_bytes:
            excess = max(count - self.max_droppable, 1)
            rows = self._db.execute(
                "DELETE FROM pending WHERE seq IN (SELECT seq FROM pending WHERE droppable = 1 "
                f"ORDER BY seq LIMIT ?) RETURNING {_SIZE}",
                (min(excess, _CHUNK),),
            ).fetchall()
            if not rows:
                break
            count, size = count - len(rows), size - sum(int(n) for (n,) in rows)
            dropped += len(rows)
        self._droppable = (count, size)
        if dropped:
            if self.dropped == 0 or (self.dropped + dropped) // 10_000 > self.dropped // 10_000:
                log.warning(
                    "outbox over its measurement quota: %d measurement messages dropped so far "
                    "(oldest first; calls are never dropped)",
                    self.dropped + dropped,
                )
            self.dropped += dropped

    def pending(
        self,
        limit: int = 100,
        *,
        skip: Container[int] = (),
        after: SentUpto | None = None,
    ) -> list[OutboxEntry]:
        """The next messages to send: events in order, then measurements in order.

        ``skip``: sequence numbers already on their way (they are passed over).
        ``after``: how far each kind was sent: only later messages are looked at, so
        picking the next ones costs the same however many wait for the hub."""
        if limit <= 0:
            return []
        after = after or SentUpto()
        entries = self._pending_of(0, after.events, limit, skip)
        if len(entries) < limit:
            entries += self._pending_of(1, after.measurements, limit - len(entries), skip)
        return entries

    def _pending_of(
        self, droppable: int, after: int, limit: int, skip: Container[int]
    ) -> list[OutboxEntry]:
        # The rows come one at a time (the cursor steps through them), so passing over
        # those on their way stops as soon as ``limit`` are found.
        rows = self._db.execute(
            "SELECT seq, topic, body FROM pending WHERE seq > ? AND droppable = ? ORDER BY seq",
            (after, droppable),
        )
        entries: list[OutboxEntry] = []
        try:
            for seq, topic, body in rows:
                if seq in skip:
                    continue
                entries.append(OutboxEntry(int(seq), str(topic), str(body), bool(droppable)))
                if len(entries) >= limit:
                    break
        finally:
            rows.close()
        return entries

    def mark_sent(self, *seqs: int) -> None:
        """These are settled: forget them (one transaction for all of them).

        Without waiting for the disk (``synchronous=NORMAL``): a forgetting lost to a power
        cut only sends a settled message again, which the hub recognises, and the next
        message stored (always with ``FULL``) makes it durable too, as SQLite's write-ahead
        log is synced as a whole. That sync was half the CPU of settling a message."""
        if not seqs:
            return
        count, size = self._droppable
        self._db.execute("PRAGMA synchronous=NORMAL")
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                for start in range(0, len(seqs), _CHUNK):
                    chunk = seqs[start : start + _CHUNK]
                    marks = ",".join("?" * len(chunk))
                    rows = self._db.execute(
                        f"DELETE FROM pending WHERE seq IN ({marks}) "  # only ?s: no injection
                        f"RETURNING droppable, {_SIZE}",
                        chunk,
                    ).fetchall()
                    for may_drop, length in rows:
                        if may_drop:
                            count, size = count - 1, size - int(length)
                self._droppable = (count, size)
        finally:
            self._db.execute("PRAGMA synchronous=FULL")

    def next_session(self) -> int:
        """A session number larger than every one before it (one per broker connect)."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("UPDATE session SET last_session = last_session + 1")
            (session,) = self._db.execute("SELECT last_session FROM session").fetchone()
        return int(session)

    def last_seq(self) -> int:
        """The sequence number of the newest event ever stored."""
        (last,) = self._db.execute("SELECT last_seq FROM sequence").fetchone()
        return int(last)

    def pending_count(self) -> int:
        (count,) = self._db.execute("SELECT COUNT(*) FROM pending").fetchone()
        return int(count)

    def close(self) -> None:
        self._db.close()
