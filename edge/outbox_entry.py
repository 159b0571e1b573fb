"""One message of the outbox: its sequence number, topic and body, and whether a quota
may drop it (a measurement message). The outbox, its memory of recent messages and its
messages not written yet all hold these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutboxEntry:
    seq: int
    topic: str
    body: str
    droppable: bool = False
