"""Outbox messages for the outbox tests, and two outboxes driven step by step alike."""

from __future__ import annotations

import random

from edge.outbox import MessageBuilder, Outbox, SentUpto
from edge.outbox_entry import OutboxEntry


def message(name: str, size: int = 0) -> MessageBuilder:
    return lambda seq: (f"topic/{name}", f"{name} {seq} " + "x" * size)


class Sender:
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
        self.senders = [Sender(outbox) for outbox in outboxes]
        self.rng = rng

    def add(self, most_events: int, **options: bool) -> None:
        rng = self.rng
        events = [message("e", rng.randrange(50)) for _ in range(rng.randrange(most_events + 1))]
        measurements = [message("m", rng.randrange(500)) for _ in range(rng.randrange(3))]
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
