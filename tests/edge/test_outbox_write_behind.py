"""A poll cycle's measurement messages wait in memory for the broker and reach the disk
only when it does not take them in time, or at a stop; sequence numbers handed out
before a sync are never handed out again, whatever happens to the agent."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from edge.outbox import RESERVED_SEQS, WRITE_BEHIND_S, Outbox
from tests.helpers.outbox import Twins, message


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _on_disk(path: Path) -> list[int]:
    """The sequence numbers in the outbox file, as another process reads them."""
    with sqlite3.connect(path) as db:
        return [int(seq) for (seq,) in db.execute("SELECT seq FROM pending ORDER BY seq")]


def test_a_measurement_the_broker_takes_in_time_never_reaches_the_disk(tmp_path: Path) -> None:
    path, clock = tmp_path / "o.sqlite3", _Clock()
    outbox = Outbox(path, clock=clock)
    try:
        [seq] = outbox.add_many([], [message("m")], derived=True)
        assert [entry.seq for entry in outbox.pending(10)] == [seq]
        assert outbox.pending_count() == 1
        clock.now += WRITE_BEHIND_S / 2
        outbox.write_due()
        assert _on_disk(path) == []
        outbox.forget_with_next_write(seq)  # the broker has it
        clock.now += WRITE_BEHIND_S
        outbox.write_due()
        assert outbox.pending(10) == []
        assert outbox.pending_count() == 0
    finally:
        outbox.close()
    assert _on_disk(path) == []


def test_one_the_broker_does_not_take_in_time_is_written_and_outlives_a_crash(
    tmp_path: Path,
) -> None:
    path, clock = tmp_path / "o.sqlite3", _Clock()
    outbox = Outbox(path, clock=clock)
    first = outbox.add_many([], [message("m")], derived=True)
    clock.now += WRITE_BEHIND_S / 2
    second = outbox.add_many([], [message("m")], derived=True)
    clock.now += WRITE_BEHIND_S / 2
    outbox.write_due()
    assert _on_disk(path) == first  # the second is not due yet
    assert [entry.seq for entry in outbox.pending(10)] == first + second
    del outbox  # the agent dies: what it held is lost, what it wrote is not
    outbox = Outbox(path, clock=clock)
    try:
        assert [entry.seq for entry in outbox.pending(10)] == first
    finally:
        outbox.close()


def test_a_stop_writes_what_is_held_and_a_message_stored_behind_it_comes_after_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "o.sqlite3"
    outbox = Outbox(path, clock=_Clock())
    held = outbox.add_many([], [message("m")], derived=True)
    behind = outbox.add_many([], [message("m")])  # not a cycle's: written at once
    assert _on_disk(path) == held + behind
    last = outbox.add_many([], [message("m")], derived=True)
    assert [entry.seq for entry in outbox.pending(10)] == held + behind + last
    outbox.close()
    assert _on_disk(path) == held + behind + last
    outbox = Outbox(path)
    try:
        assert [entry.seq for entry in outbox.pending(10)] == held + behind + last
    finally:
        outbox.close()


def test_past_its_memory_bound_the_oldest_held_message_is_written_at_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "o.sqlite3"
    outbox = Outbox(path, clock=_Clock())
    outbox._unwritten.max_chars = 2500
    try:
        seqs = [outbox.add_many([], [message("m", 1000)], derived=True)[0] for _ in range(3)]
        assert _on_disk(path) == seqs[:1]  # three of about 1 kB exceed 2.5 kB
        assert [entry.seq for entry in outbox.pending(10)] == seqs
    finally:
        outbox.close()


def test_numbers_handed_out_before_a_sync_are_not_handed_out_again_after_a_crash(
    tmp_path: Path,
) -> None:
    path, clock = tmp_path / "o.sqlite3", _Clock()
    outbox = Outbox(path, clock=clock)
    call = outbox.add(message("call"))
    assert call == 1
    # An anomaly committed without waiting for the disk, and measurements held: their
    # numbers come from a block put on disk first.
    anomaly = outbox.add_many([message("anomaly")], [message("m")], derived=True)
    held = outbox.add_many([], [message("m")], derived=True)
    assert anomaly + held == [2, 3, 4]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT last_seq FROM sequence").fetchone() == (3 + RESERVED_SEQS,)
    del outbox  # the agent dies; a power cut could also lose the anomaly's commit
    outbox = Outbox(path)
    try:
        assert outbox.last_seq() == 3 + RESERVED_SEQS
        assert outbox.add(message("call")) == 4 + RESERVED_SEQS
    finally:
        outbox.close()


def test_a_block_used_up_is_followed_by_the_next_one(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    outbox = Outbox(path, clock=_Clock())
    try:
        for _ in range(RESERVED_SEQS + 5):
            [seq] = outbox.add_many([], [message("m", 0)], derived=True)
            outbox.forget_with_next_write(seq)
        with sqlite3.connect(path) as db:
            (on_disk,) = db.execute("SELECT last_seq FROM sequence").fetchone()
        assert on_disk >= outbox.last_seq() == RESERVED_SEQS + 5
        assert _on_disk(path) == []
    finally:
        outbox.close()


@pytest.mark.parametrize("seed", range(6))
def test_held_measurements_come_out_as_those_written_at_once(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    clock = _Clock()
    twins = Twins(
        [
            Outbox(tmp_path / f"{name}.sqlite3", write_behind_s=wait, clock=clock)
            for name, wait in (("behind", WRITE_BEHIND_S), ("at-once", 0.0))
        ],
        rng,
    )
    outboxes = twins.outboxes
    try:
        for step in range(600):
            action = rng.random()
            if action < 0.35:
                twins.add(most_events=2, derived=rng.random() < 0.85)
            elif action < 0.7:
                twins.send(step)
            elif action < 0.85:
                twins.settle()
            elif action < 0.95:
                clock.now += rng.uniform(0, WRITE_BEHIND_S)
                for outbox in outboxes:
                    outbox.write_due()
            else:
                twins.again()
        assert outboxes[0].pending_count() == outboxes[1].pending_count()
        assert outboxes[0].dropped == outboxes[1].dropped == 0
    finally:
        twins.close()
    assert _on_disk(tmp_path / "behind.sqlite3") == _on_disk(tmp_path / "at-once.sqlite3")
