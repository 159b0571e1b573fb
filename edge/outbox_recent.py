"""The messages the outbox stored and the sender has not reached yet, kept in memory too.

Ten times a second the recorder stores a poll cycle's anomalies and measurement message
and the sender asks for them at once; reading them back from SQLite (their bodies too: a
measurement message is tens of kilobytes), and asking again to find nothing more, was a
good part of the outbox's cost. The sender's mark (``SentUpto``) says how far it went;
while everything stored beyond that mark is held here, the next messages come from
memory, and the outbox reads SQLite only for what it stored before (a backlog), for what
goes again (a new session, a confirmation that timed out), and after more piled up than
this holds (the broker away for a while).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Container, Iterable
from dataclasses import dataclass, field

from edge.outbox_entry import OutboxEntry

MAX_ENTRIES = 2_000
# Bounds what an outage can add to the agent's memory: about 40 measurement messages.
MAX_CHARS = 2 << 20


@dataclass
class _Kind:
    """One kind's messages (events, or measurements), oldest first."""

    # Every stored message of this kind from this sequence number on is in ``entries``,
    # unless it was deleted (``gone``).
    covered_from: int
    entries: deque[OutboxEntry] = field(default_factory=deque)
    gone: set[int] = field(default_factory=set)
    chars: int = 0

    def forget_all(self, upto: int) -> None:
        """Hold nothing of ``upto`` and before: those are read from SQLite."""
        self.entries.clear()
        self.gone.clear()
        self.chars = 0
        self.covered_from = upto + 1


class RecentMessages:
    """Stored messages of each kind that the sender has not reached, while there are few."""

    def __init__(
        self, *, newest_stored: dict[bool, int], max_entries: int = MAX_ENTRIES,
        max_chars: int = MAX_CHARS,
    ) -> None:  # fmt: skip
        """``newest_stored``: per kind (droppable or not), the newest message in SQLite."""
        self.max_entries = max_entries
        self.max_chars = max_chars
        self._kinds = {kind: _Kind(newest + 1) for kind, newest in newest_stored.items()}

    def stored(self, entries: Iterable[OutboxEntry]) -> None:
        """These were committed, in sequence order."""
        for entry in entries:
            kind = self._kinds[entry.droppable]
            chars = kind.chars + len(entry.body)
            if len(kind.entries) >= self.max_entries or chars > self.max_chars:
                kind.forget_all(upto=entry.seq)
                continue
            kind.entries.append(entry)
            kind.chars = chars

    def deleted(self, seqs: Iterable[int]) -> None:
        """These are settled or were dropped over the quota: never hand them out."""
        seqs = list(seqs)
        for kind in self._kinds.values():
            if kind.entries:
                first = kind.entries[0].seq
                kind.gone.update(seq for seq in seqs if seq >= first)

    def after(
        self, droppable: bool, after: int, limit: int, skip: Container[int]
    ) -> list[OutboxEntry] | None:
        """Up to ``limit`` messages of the kind later than ``after``, in order; None when
        some of those are not held here (SQLite must be read)."""
        kind = self._kinds[droppable]
        if after + 1 < kind.covered_from:
            return None
        entries = kind.entries
        while entries and entries[0].seq <= after:  # the sender went past them
            passed = entries.popleft()
            kind.chars -= len(passed.body)
            kind.gone.discard(passed.seq)
            kind.covered_from = passed.seq + 1  # asked for again: from SQLite
        found: list[OutboxEntry] = []
        for entry in entries:
            if len(found) >= limit:
                break
            if entry.seq not in kind.gone and entry.seq not in skip:
                found.append(entry)
        return found
