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

A poll cycle's measurement messages are first held in memory and written only when the
broker has not taken them within ``write_behind_s`` (``edge/outbox_unwritten.py``). One
that was written and that the broker has is forgotten in the next transaction the outbox
writes anyway (``forget_with_next_write``), not in one of its own. Should the agent die in
between, the message goes once more after the restart, and the hub recognises it.

Sequence numbers are never handed out twice, not even after a power cut: the number on
disk is at least every one handed out. Messages not synced to the disk when they go out
(held, or committed without waiting for it) take numbers from a block reserved on disk
beforehand (``RESERVED_SEQS``); after a restart numbering goes on above the block. A
number used twice would make the hub take a later call for one it already has.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import time
from collections.abc import Callable, Container, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from edge.outbox_entry import OutboxEntry
from edge.outbox_recent import MAX_ENTRIES, RecentMessages
from edge.outbox_unwritten import UnwrittenMessages

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
# Messages derived from readings (a poll cycle's anomalies and measurements) are committed
# without waiting for the disk unless the last wait is this long ago (``add_many``).
DERIVED_SYNC_S = 1.0
# A poll cycle's measurement messages are written to SQLite only if the broker has not
# taken them this long after they were made (``edge/outbox_unwritten.py``).
WRITE_BEHIND_S = 1.0
# Sequence numbers reserved on disk at a time for messages that go out before they are
# synced to it (a restart skips what is left of the block).
RESERVED_SEQS = 1000
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


class Outbox:
    """Pending events in SQLite (WAL), in sequence order."""

    def __init__(
        self, path: Path, *, max_droppable: int = 10_000, max_droppable_bytes: int = 100 << 20,
        held: int = MAX_ENTRIES, write_behind_s: float = WRITE_BEHIND_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        """``held``: how many messages of each kind not sent yet are also kept in memory
        (``edge/outbox_recent.py``; 0: always read SQLite). ``write_behind_s``: how long
        a poll cycle's measurement messages may wait in memory for the broker (0: they
        are written at once). ``clock``: monotonic seconds."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.max_droppable = max_droppable
        self.max_droppable_bytes = max_droppable_bytes
        self.write_behind_s = write_behind_s
        self.dropped = 0
        self._clock = clock
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        # Debian's SQLite overwrites deleted rows with zeros by default; a settled message
        # needs no wiping (it went to the broker as it is), and wiping each 40 kB
        # measurement message cost more than storing it. FAST still zeroes what costs no
        # extra write.
        self._db.execute("PRAGMA secure_delete=FAST")
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
        # Settled, to be deleted in the next transaction (``forget_with_next_write``).
        self._forgotten: set[int] = set()
        self._synced_at = -math.inf  # when a transaction last waited for the disk
        self.unsynced = False  # derived messages committed since then
        (last,) = self._db.execute("SELECT last_seq FROM sequence").fetchone()
        # The newest number handed out, and the number on disk: no number above it was
        # handed out before (a restart goes on above a reserved block).
        self._last_seq = self._on_disk = int(last)
        self._unwritten = UnwrittenMessages()
        newest = dict(
            self._db.execute("SELECT droppable, MAX(seq) FROM pending GROUP BY droppable")
        )
        self._recent = RecentMessages(
            newest_stored={kind: int(newest.get(int(kind), 0)) for kind in (False, True)},
            max_entries=held,
        )

    def add(self, make_message: MessageBuilder) -> int:
        """Take the next sequence number, build the message for it and store both atomically."""
        return self.add_many([make_message])[0]

    def add_many(
        self,
        events: list[MessageBuilder],
        droppable: list[MessageBuilder] | None = None,
        *,
        derived: bool = False,
    ) -> list[int]:
        """Store several messages in one transaction; ``droppable`` ones go behind the rest.

        The transaction waits for the disk (``synchronous=FULL``), so what it stored
        survives a power cut, except for ``derived`` messages (what a poll cycle's readings
        gave: its anomalies and measurements), which wait for it at most once every
        ``DERIVED_SYNC_S``. In between they survive the agent's crash, as any commit in
        SQLite's write-ahead log does, and the next wait (a call's, the next cycle's a
        second later, or ``write_due``'s) syncs them too: ten syncs a second were a
        fifth of the outbox's CPU, and wear on a line PC's flash disk. Derived droppable
        messages (a cycle's measurements) are held in memory instead, and written only if
        the broker does not take them in time (``write_due``)."""
        droppable = droppable or []
        now = self._clock()
        held: list[MessageBuilder] = []
        if derived and self.write_behind_s > 0:
            held, droppable = droppable, []
        end = self._last_seq + len(events) + len(droppable) + len(held)
        # Numbers that go out before a sync come from a block reserved on disk.
        reserve = derived and end > self._on_disk
        sync = not derived or reserve or now - self._synced_at >= DERIVED_SYNC_S
        if not events and not droppable and not reserve:
            entries = self._hold(held, now)
            self._recent.stored(entries)
            self.write_due()
            return [entry.seq for entry in entries]
        # A message stored behind held ones: those are written first, in order.
        due = self._unwritten.take_all() if droppable else self._due(now)
        with self._transaction(sync=sync):
            stored, on_disk = self._store(
                events, droppable, due, reserve_upto=end if reserve else 0
            )
        # Taken once committed: a transaction that failed hands out and reserves nothing.
        self._last_seq, self._on_disk = end - len(held), on_disk
        stored += self._hold(held, now)
        self._recent.stored(stored)
        return [entry.seq for entry in stored]

    def write_due(self) -> None:
        """Write the held measurement messages the broker has not taken in time, and put
        derived messages committed without waiting for the disk on it once they are
        ``DERIVED_SYNC_S`` old (the poll loop asks every cycle, written or not)."""
        now = self._clock()
        due = self._due(now)
        sync_due = now - self._synced_at >= DERIVED_SYNC_S
        if not due and not (self.unsynced and sync_due):
            return
        with self._transaction(sync=sync_due):
            self._store([], [], due)
            if sync_due:  # a write, so that the commit syncs the log (earlier commits too)
                self._db.execute("UPDATE sequence SET last_seq = last_seq")

    def _due(self, now: float) -> list[OutboxEntry]:
        return self._unwritten.due(made_by=now - self.write_behind_s)

    def _hold(self, builds: list[MessageBuilder], now: float) -> list[OutboxEntry]:
        """Number ``builds`` after the last number handed out (within the reserved block),
        build them and hold them in memory."""
        entries = []
        for seq, build in enumerate(builds, self._last_seq + 1):
            topic, body = build(seq)
            entry = OutboxEntry(seq, topic, body, droppable=True)
            self._unwritten.hold(entry, now)
            entries.append(entry)
            self._last_seq = seq
        return entries

    @contextmanager
    def _transaction(self, *, sync: bool) -> Iterator[None]:
        """One write transaction; ``sync``: it waits for the disk (else it is derived)."""
        if not sync:
            self._db.execute("PRAGMA synchronous=NORMAL")
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                yield
        finally:
            if not sync:
                self._db.execute("PRAGMA synchronous=FULL")
        if sync:
            self._synced_at, self.unsynced = self._clock(), False
        else:
            self.unsynced = True

    def _store(
        self,
        events: list[MessageBuilder],
        droppable: list[MessageBuilder],
        held: list[OutboxEntry],
        *,
        reserve_upto: int = 0,
    ) -> tuple[list[OutboxEntry], int]:
        """Inside a transaction: write ``held`` (numbered already), then number, build and
        write ``events`` and ``droppable``; reserve numbers up to ``reserve_upto`` plus a
        block. The new entries, and the number now on disk."""
        rows = [(build, 0) for build in events] + [(build, 1) for build in droppable]
        stored: list[OutboxEntry] = []
        self._delete_forgotten()
        count, size = self._droppable
        insert = "INSERT INTO pending (seq, topic, body, droppable, size) VALUES (?, ?, ?, ?, ?)"
        for entry in held:
            self._db.execute(insert, (entry.seq, entry.topic, entry.body, 1, len(entry.body)))
            count, size = count + 1, size + len(entry.body)
        seq = self._last_seq
        for build, may_drop in rows:
            seq += 1
            topic, body = build(seq)
            self._db.execute(insert, (seq, topic, body, may_drop, len(body)))
            if may_drop:
                count, size = count + 1, size + len(body)
            stored.append(OutboxEntry(seq, topic, body, bool(may_drop)))
        on_disk = max(self._on_disk, seq, reserve_upto + RESERVED_SEQS if reserve_upto else 0)
        if on_disk != self._on_disk:
            self._db.execute("UPDATE sequence SET last_seq = ?", (on_disk,))
        self._droppable = (count, size)
        if droppable or held:
            self._recent.deleted(self._enforce_quota())
        return stored, on_disk

    def _enforce_quota(self) -> list[int]:
        """Drop the oldest measurements while over either quota (count or bytes); their
        sequence numbers."""
        count, size = self._droppable
        gone: list[int] = []
        while count > self.max_droppable or size > self.max_droppable_bytes:
            excess = max(count - self.max_droppable, 1)
            rows = self._db.execute(
                "DELETE FROM pending WHERE seq IN (SELECT seq FROM pending WHERE droppable = 1 "
                f"ORDER BY seq LIMIT ?) RETURNING seq, {_SIZE}",
                (min(excess, _CHUNK),),
            ).fetchall()
            if not rows:
                break
            count, size = count - len(rows), size - sum(int(n) for _, n in rows)
            gone += [int(seq) for seq, _ in rows]
        self._droppable = (count, size)
        dropped = len(gone)
        if dropped:
            if self.dropped == 0 or (self.dropped + dropped) // 10_000 > self.dropped // 10_000:
                log.warning(
                    "outbox over its measurement quota: %d measurement messages dropped so far "
                    "(oldest first; calls are never dropped)",
                    self.dropped + dropped,
                )
            self.dropped += dropped
        return gone

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
        recent = self._recent.after(bool(droppable), after, limit, skip)
        if recent is not None:
            return recent
        # The rows come one at a time (the cursor steps through them), so passing over
        # those on their way stops as soon as ``limit`` are found.
        rows = self._db.execute(
            "SELECT seq, topic, body FROM pending WHERE seq > ? AND droppable = ? ORDER BY seq",
            (after, droppable),
        )
        entries: list[OutboxEntry] = []
        try:
            for seq, topic, body in rows:
                if seq in skip or seq in self._forgotten:
                    continue
                entries.append(OutboxEntry(int(seq), str(topic), str(body), bool(droppable)))
                if len(entries) >= limit:
                    break
        finally:
            rows.close()
        if droppable and len(entries) < limit:  # the held ones are newer than any written
            entries += self._unwritten.after(after, limit - len(entries), skip)
        return entries

    def mark_sent(self, *seqs: int) -> None:
        """These are settled: forget them (one transaction for all of them).

        Without waiting for the disk (``synchronous=NORMAL``): a forgetting lost to a power
        cut only sends a settled message again, which the hub recognises, and the next
        message stored (always with ``FULL``) makes it durable too, as SQLite's write-ahead
        log is synced as a whole. That sync was half the CPU of settling a message."""
        if not seqs and not self._forgotten:
            return
        self.forget_with_next_write(*seqs)
        self._db.execute("PRAGMA synchronous=NORMAL")
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._delete_forgotten()
        finally:
            self._db.execute("PRAGMA synchronous=FULL")

    def forget_with_next_write(self, *seqs: int) -> None:
        """These are settled: no longer sent, and deleted in the next transaction (of
        ``add_many``, ``mark_sent`` or ``close``) rather than in one of their own; those
        held in memory only are never written."""
        self._forgotten.update(self._unwritten.forget(seqs))
        self._recent.deleted(seqs)

    def _delete_forgotten(self) -> None:
        """Delete the settled messages, inside the caller's transaction."""
        if not self._forgotten:
            return
        seqs = sorted(self._forgotten)
        count, size = self._droppable
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
        self._forgotten.clear()

    def next_session(self) -> int:
        """A session number larger than every one before it (one per broker connect)."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("UPDATE session SET last_session = last_session + 1")
            (session,) = self._db.execute("SELECT last_session FROM session").fetchone()
        return int(session)

    def last_seq(self) -> int:
        """The newest sequence number handed out (after a restart: at least that)."""
        return self._last_seq

    def pending_count(self) -> int:
        self.mark_sent()  # what waits to be forgotten first
        (count,) = self._db.execute("SELECT COUNT(*) FROM pending").fetchone()
        return int(count) + len(self._unwritten)

    def close(self) -> None:
        """Write what is held in memory, forget what is settled, and close the file."""
        held = self._unwritten.take_all()
        if held:
            with self._transaction(sync=True):
                self._store([], [], held)
        self.mark_sent()  # what waits to be forgotten
        self._db.close()
