"""The outbox hands out the same messages in the same order whether it holds the recent
ones in memory or reads every one from SQLite, whatever a sender does."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from edge.outbox import Outbox
from tests.helpers.outbox import Twins


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
