"""Measurement messages a poll cycle made, kept in memory until the broker has them.

Ten times a second a poll cycle makes a measurement message of tens of kilobytes, and the
broker usually has it within milliseconds. Writing each one to SQLite, then deleting it,
was most of what the agent wrote to its disk (0.7 MB/s in the edge benchmark, some 60 GB
a day of wear on a line PC's flash) and a twentieth of its CPU. So such a message is
written only when the broker has not taken it ``write_behind_s`` after it was made (the
broker or the network is away), when those held exceed ``max_chars``, or when the agent
stops. Should the agent die, what is held is lost: at most that last second of
measurements, which are droppable anyway. Calls, anomalies and status events are
always written at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Container, Iterable

from edge.outbox_entry import OutboxEntry

# About 50 measurement messages of the edge benchmark's size.
MAX_CHARS = 2 << 20


class UnwrittenMessages:
    """Measurement messages not written to SQLite, oldest (lowest sequence number) first."""

    def __init__(self, *, max_chars: int = MAX_CHARS) -> None:
        self.max_chars = max_chars
        self.chars = 0
        self._entries: OrderedDict[int, tuple[OutboxEntry, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def hold(self, entry: OutboxEntry, made_at: float) -> None:
        """Keep ``entry`` (newer than every one held) from ``made_at`` on."""
        self._entries[entry.seq] = (entry, made_at)
        self.chars += len(entry.body)

    def due(self, made_by: float) -> list[OutboxEntry]:
        """Take out those to be written now: made at ``made_by`` or earlier, and the
        oldest while those held exceed ``max_chars``."""
        taken: list[OutboxEntry] = []
        while self._entries:
            entry, made_at = next(iter(self._entries.values()))
            if made_at > made_by and self.chars <= self.max_chars:
                break
            self._take(entry.seq)
            taken.append(entry)
        return taken

    def take_all(self) -> list[OutboxEntry]:
        """Take out every one (to be written: the agent stops, or a message is stored
        behind them)."""
        taken = [entry for entry, _ in self._entries.values()]
        self._entries.clear()
        self.chars = 0
        return taken

    def forget(self, seqs: Iterable[int]) -> list[int]:
        """Drop those of ``seqs`` held here (the broker has them); the others."""
        others = []
        for seq in seqs:
            if seq in self._entries:
                self._take(seq)
            else:
                others.append(seq)
        return others

    def after(self, after: int, limit: int, skip: Container[int]) -> list[OutboxEntry]:
        """Up to ``limit`` of them later than ``after`` and not in ``skip``, in order."""
        found: list[OutboxEntry] = []
        for seq, (entry, _) in self._entries.items():
            if len(found) >= limit:
                break
            if seq > after and seq not in skip:
                found.append(entry)
        return found

    def _take(self, seq: int) -> None:
        entry, _ = self._entries.pop(seq)
        self.chars -= len(entry.body)
