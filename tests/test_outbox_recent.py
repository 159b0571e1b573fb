"""The outbox hands out the same messages in the same order whether it holds the recent
ones in memory or reads every one from SQLite, whatever a sender does."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from edge.outbox import MessageBuilder, Outbox, SentUpto
from edge.outbox_entry import OutboxEntry


def _message(name: str, size: int) -> MessageBuilder:
    return lambda seq: (f"topic/{name}", f"{name} {seq} " + "x" * size)


class _Sender:
    """What ``edge.delivery`` does with an outbox, reduced to its bookkeeping."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.sent = SentUpto()
        self.inflight: set[int] = set()

    def send(self, limit: int) -> list[OutboxEntry]:
        entries = self.outbox.pending(limit, skip=self.inflight, after=self.sent)
        for entry in entries:
            self.inflight.add(entry.seq)
            self.sent.advance(entry)
        return entries

    def settle(self, rng: random.Random, *, later: bool) -> None:
        chosen = sorted(seq for seq in self.inflight if rng.random() < 0.5)
        self.inflight.difference_update(chosen)
        if later:
            self.outbox.forget_with_next_write(*chosen)
        else:
            self.outbox.mark_sent(*chosen)

    def again(self) -> None:
        """A new session, or confirmations that timed out: everything on its way goes again."""
        self.inflight.clear()
        self.sent = SentUpto()


class Twins:
    """Two outboxes driven through the same steps by their senders; each step checks
    that both gave the same."""

    def __init__(self, outboxes: list[Outbox], rng: random.Random) -> None:
        self.outboxes = outboxes
        self.senders = [_Sender(outbox) for outbox in outboxes]
        self.rng = rng

    def add(self, most_events: int, **options: bool) -> None:
        rng = self.rng
        events = [_message("e", rng.randrange(50)) for _ in range(rng.randrange(most_events + 1))]
        measurements = [_message("m", rng.randrange(500)) for _ in range(rng.randrange(3))]
        seqs = [outbox.add_many(events, measurements, **options) for outbox in self.outboxes]
        assert seqs[0] == seqs[1]

    def send(self, step: int) -> None:
        limit = self.rng.randrange(1, 12)
        sent = [[(e.seq, e.body) for e in sender.send(limit)] for sender in self.senders]
        assert sent[0] == sent[1], f"step {step}"

    def settle(self) -> None:
        later, state = self.rng.random() < 0.5, self.rng.getstate()
        for sender in self.senders:
            self.rng.setstate(state)  # the same choice for both
            sender.settle(self.rng, later=later)

    def again(self) -> None:
        for sender in self.senders:
            sender.again()

    def close(self) -> None:
        for outbox in self.outboxes:
            outbox.close()


@pytest.mark.parametrize("seed", range(6))
def test_held_messages_come_out_as_sqlite_gives_them(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    # A small quota, so that the oldest measurements are dropped along the way too.
    twins = Twins(
        [
            Outbox(tmp_path / f"{name}.sqlite3", max_droppable=10, held=held)
            for name, held in (("memory", 8), ("sqlite", 0))
        ],
        rng,
    )
    outboxes = twins.outboxes
    try:
        for step in range(600):
            action = rng.random()
            if action < 0.35:
                twins.add(most_events=3)
            elif action < 0.75:
                twins.send(step)
            elif action < 0.92:
                twins.settle()
            else:
                twins.again()
        assert outboxes[0].dropped == outboxes[1].dropped > 0
        assert outboxes[0].pending_count() == outboxes[1].pending_count()
    finally:
        twins.close()
