"""The outbox's disk quota and session numbers; the confirmation and status payloads."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from contract.wire import (
    Confirmation,
    as_historical,
    parse_any_event,
    parse_session_status,
    seq_ranges,
)
from edge.outbox import DERIVED_SYNC_S, Outbox, SentUpto
from edge.outbox_entry import OutboxEntry
from tests.helpers.outbox import message


def test_over_the_byte_quota_the_oldest_measurements_go_and_calls_never_do(
    tmp_path: Path,
) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", max_droppable=1000, max_droppable_bytes=3000)
    try:
        outbox.add(message("call", 5000))  # larger than the quota itself: kept
        for _ in range(5):
            outbox.add_many([], [message("m", 1000)])
        outbox.add(message("call", 5000))
        kept = [entry.seq for entry in outbox.pending(100)]
        assert kept == [1, 7, 5, 6]  # calls first; of measurements, the two newest
        assert outbox.dropped == 3
    finally:
        outbox.close()


def test_the_byte_quota_counts_what_is_still_waiting_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    outbox = Outbox(path, max_droppable_bytes=10_000)
    for _ in range(3):
        outbox.add_many([], [message("m", 1000)])
    outbox.mark_sent(1)
    outbox.close()
    outbox = Outbox(path, max_droppable_bytes=2500)
    try:
        outbox.add_many([], [message("m", 1000)])
        assert [entry.seq for entry in outbox.pending()] == [3, 4]
        assert outbox.dropped == 1
    finally:
        outbox.close()


def test_a_measurement_the_broker_has_goes_with_the_next_write_or_once_more_after_a_crash(
    tmp_path: Path,
) -> None:
    path = tmp_path / "o.sqlite3"
    outbox = Outbox(path, max_droppable_bytes=10_000)
    outbox.add_many([message("call")], [message("m", 1000), message("m", 1000)])  # 1; 2, 3
    outbox.forget_with_next_write(2)
    # No longer offered, from the start either, though not deleted yet.
    assert [entry.seq for entry in outbox.pending(10)] == [1, 3]
    # The agent dies before its next write (no close): the message is still there, sent
    # once more.
    del outbox
    outbox = Outbox(path, max_droppable_bytes=10_000)
    assert [entry.seq for entry in outbox.pending(10)] == [1, 2, 3]
    outbox.forget_with_next_write(2, 3)
    outbox.add_many([], [message("m", 1000)])  # 4, in the transaction that deletes 2 and 3
    del outbox
    outbox = Outbox(path, max_droppable_bytes=2500)
    try:
        # The quota counts only what is left (4 and 5), so nothing is dropped.
        outbox.add_many([], [message("m", 1000)])
        assert [entry.seq for entry in outbox.pending(10)] == [1, 4, 5]
        assert outbox.dropped == 0
        outbox.forget_with_next_write(4)
        assert outbox.pending_count() == 2
    finally:
        outbox.close()
    outbox = Outbox(path)
    try:
        assert [entry.seq for entry in outbox.pending(10)] == [1, 5]  # close forgot 4
    finally:
        outbox.close()


def test_session_numbers_increase_at_every_connect_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    outbox = Outbox(path)
    assert [outbox.next_session(), outbox.next_session()] == [1, 2]
    outbox.close()
    outbox = Outbox(path)
    try:
        assert outbox.next_session() == 3
    finally:
        outbox.close()


def test_events_on_their_way_are_passed_over_and_the_rest_come_in_order(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3")
    try:
        for name in ("a", "b", "c", "d"):
            outbox.add(message(name))
        assert [e.seq for e in outbox.pending(2, skip={1, 2, 3})] == [4]
        assert [e.seq for e in outbox.pending(2, skip={1: 0.0})] == [2, 3]
        assert outbox.last_seq() == 4
    finally:
        outbox.close()


def test_messages_sent_up_to_the_mark_are_not_looked_at_and_later_ones_come_in_order(
    tmp_path: Path,
) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3")
    try:
        outbox.add_many([message("a"), message("b")], [message("m1")])  # 1, 2; m 3
        outbox.add_many([message("c")], [message("m2")])  # 4; m 5
        sent = SentUpto()
        first = outbox.pending(2, after=sent)
        assert [e.seq for e in first] == [1, 2]
        for entry in first:
            sent.advance(entry)
        # Nothing skipped by sequence number: the mark alone passes over 1 and 2.
        assert [e.seq for e in outbox.pending(10, after=sent)] == [4, 3, 5]
        sent.advance(OutboxEntry(4, "t", "b"))
        sent.advance(OutboxEntry(3, "t", "b", droppable=True))
        assert [e.seq for e in outbox.pending(10, after=sent)] == [5]
        outbox.add(message("d"))  # 6: an event, ahead of the measurement still waiting
        assert [e.seq for e in outbox.pending(10, after=sent)] == [6, 5]
        assert outbox.pending(0, after=sent) == []
        # Back at the start, what is on its way is passed over and the limit still holds.
        assert [e.seq for e in outbox.pending(2, skip={1, 2, 4})] == [6, 3]
    finally:
        outbox.close()


def test_a_confirmation_settles_its_ranges_and_a_forged_huge_range_is_bounded() -> None:
    confirmation = Confirmation.model_validate_json(
        '{"confirmed": [[1, 3], [7, 7]], "rejected": [[5, 5]]}'
    )
    assert confirmation.seqs() == [1, 2, 3, 7, 5]
    huge = Confirmation.model_validate_json('{"confirmed": [[1, 9000000000000]]}')
    assert len(huge.seqs()) == 100_000
    assert seq_ranges([5, 1, 2, 3, 3, 9]) == [(1, 3), (5, 5), (9, 9)]


def test_statuses_are_json_with_a_session_and_the_old_plain_ones_are_session_0() -> None:
    status = parse_session_status(b'{"status": "online", "session": 12}')
    assert (status.status, status.session) == ("online", 12)
    assert parse_session_status(b"offline").session == 0
    with pytest.raises(ValueError, match="status 'gone'"):
        parse_session_status(b"gone")
    with pytest.raises(ValueError, match="session"):
        parse_session_status(b'{"status": "online", "session": -1}')


def test_a_replayed_body_is_flagged_historical_and_still_a_valid_event() -> None:
    body = json.dumps({
        "event_id": "e:1", "edge_id": "e", "seq": 1, "ts": "2026-12-01T08:00:00Z",
        "kind": "call", "site": "s", "area": "a", "line": "l", "station": "st1",
        "payload": {"call_type": "help"},
    })  # fmt: skip
    event = parse_any_event(as_historical(body))
    assert event.historical is True
    assert parse_any_event(body).historical is None


def test_derived_messages_wait_for_the_disk_at_most_once_a_second_and_calls_always(
    tmp_path: Path,
) -> None:
    # Measurements written at once, as when they wait for the broker longer than allowed.
    outbox = Outbox(tmp_path / "o.sqlite3", write_behind_s=0)
    try:
        outbox.add_many([message("anomaly")], [message("m")], derived=True)
        assert not outbox.unsynced  # the first one waits: nothing was synced before
        outbox.add_many([message("anomaly")], [message("m")], derived=True)
        assert outbox.unsynced
        outbox.write_due()
        assert outbox.unsynced  # not a second old yet
        outbox.add(message("call"))
        assert not outbox.unsynced  # a call waits for the disk, and the log before it with it
        outbox.add_many([], [message("m")], derived=True)
        assert outbox.unsynced
        time.sleep(DERIVED_SYNC_S)
        outbox.write_due()
        assert not outbox.unsynced
        outbox.add_many([], [message("m")], derived=True)
        assert outbox.unsynced  # the log was synced just now: this one waits for the next
        assert [entry.seq for entry in outbox.pending(10)] == [1, 3, 5, 2, 4, 6, 7]
    finally:
        outbox.close()
