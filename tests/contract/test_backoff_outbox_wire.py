"""Small pieces: reconnect backoff, the durable outbox, and the wire contract."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from contract.backoff import REMIND_FIRST_S, RETRY_WITHIN_S, Backoff, Outage, Report
from contract.wire import Event, Topics, make_event_id
from edge.outbox import Outbox


def test_backoff_grows_is_capped_and_jittered() -> None:
    backoff = Backoff(initial=1.0, cap=8.0, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(8)]
    ceilings = [1, 2, 4, 8, 8, 8, 8, 8]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len(set(delays)) == len(delays)
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_an_outage_is_tried_within_a_second_however_long_and_reminded_ever_less_often() -> None:
    outage = Outage(remind_cap_s=30.0, tries=None)
    reports: list[tuple[float, Report]] = []
    now, tries = 0.0, 0
    while now < 600:  # ten minutes of failed tries, each taking 0.3 s
        assert outage.may_try(now)
        report = outage.failed(started=now, now=now + 0.3)
        tries += 1
        if report is not None:
            reports.append((now, report))
        gap = outage.retry_at - now
        assert 0 < gap <= RETRY_WITHIN_S
        assert not outage.may_try(outage.retry_at - 0.001)
        now = max(outage.retry_at, now + 0.3)
    assert outage.tries == tries
    assert reports[0] == (0.0, Report.DOWN)
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(reports)]
    # Reminders from REMIND_FIRST_S doubling to the cap, whatever the tries' pace (each
    # comes with the first try after it is due).
    for i, gap in enumerate(gaps):
        expected = min(REMIND_FIRST_S * 2**i, 30.0)
        assert expected <= gap < expected + RETRY_WITHIN_S + 0.3
    assert outage.succeeded() is True
    assert (outage.up, outage.tries) == (True, 0)
    assert outage.succeeded() is False


def test_outbox_keeps_pending_events_and_sequence_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    outbox = Outbox(path)
    for _ in range(3):
        outbox.add(lambda seq: ("t", f"event {seq}"))
    outbox.mark_sent(1)
    outbox.close()

    reopened = Outbox(path)
    assert [(e.seq, e.body) for e in reopened.pending()] == [(2, "event 2"), (3, "event 3")]
    reopened.mark_sent(2)
    reopened.mark_sent(3)
    assert reopened.add(lambda seq: ("t", f"event {seq}")) == 4
    reopened.close()


def test_outbox_takes_no_sequence_number_when_building_the_message_fails(
    tmp_path: Path,
) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")

    def broken(seq: int) -> tuple[str, str]:
        raise ValueError(seq)

    with pytest.raises(ValueError, match="1"):
        outbox.add(broken)
    assert outbox.add(lambda seq: ("t", str(seq))) == 1
    outbox.close()


def _event(**changes: object) -> dict[str, object]:
    event = {
        "event_id": "edge-1:5",
        "edge_id": "edge-1",
        "seq": 5,
        "ts": "2026-11-24T08:00:00Z",
        "kind": "call",
        "site": "p",
        "area": "a",
        "line": "l",
        "station": "s",
        "payload": {"call_type": "help"},
    }
    return {**event, **changes}


def test_event_round_trips_through_json() -> None:
    event = Event.model_validate(_event())
    assert Event.model_validate_json(event.model_dump_json()) == event
    assert event.ts == datetime(2026, 11, 24, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"event_id": "edge-1:6"}, "event_id must be 'edge-1:5'"),
        ({"ts": "2026-11-24T08:00:00"}, "timestamp must be in UTC"),
        ({"ts": "2026-11-24T08:00:00+01:00"}, "timestamp must be in UTC"),
        ({"seq": 0}, "greater than or equal to 1"),
        ({"kind": "measurement"}, "Input should be 'call'"),
        ({"extra": 1}, "Extra inputs are not permitted"),
        ({"station": "st/10"}, "String should match pattern"),
    ],
)
def test_event_rejects_what_breaks_the_contract(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Event.model_validate(_event(**changes))


def test_topics_round_trip() -> None:
    topics = Topics("andon")
    topic = topics.event("p", "a", "l", "s")
    assert topic == "andon/v1/p/a/l/s/event"
    assert topics.parse_event(topic) == ("p", "a", "l", "s")
    assert topics.parse_edge_status(topics.edge_status("p", "e1")) == ("p", "e1")
    assert topics.parse_event("andon/v2/p/a/l/s/event") is None
    assert make_event_id("e1", 3) == "e1:3"
