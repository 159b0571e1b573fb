"""Outbox order and quota for measurements; the wire's new event kinds beside calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from contract.wire import (
    AnomalyEvent,
    CallPayload,
    DeviceStatusEvent,
    Event,
    MeasurementEvent,
    PartRef,
    event_json,
    parse_any_event,
    utc_now,
)
from edge.outbox import MessageBuilder, Outbox


def _message(name: str) -> MessageBuilder:
    return lambda seq: (f"topic/{name}", f"{name} {seq}")


def test_calls_go_out_before_measurements_stored_earlier(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    try:
        outbox.add_many([], [_message("m1"), _message("m2")])
        outbox.add(_message("call"))
        assert [e.body for e in outbox.pending()] == ["call 3", "m1 1", "m2 2"]
    finally:
        outbox.close()


def test_beyond_the_quota_the_oldest_measurements_are_dropped_and_counted(
    tmp_path: Path,
) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3", max_droppable=3)
    try:
        outbox.add(_message("call"))
        for _ in range(5):
            outbox.add_many([], [_message("m")])
        assert [e.body for e in outbox.pending()] == ["call 1", "m 4", "m 5", "m 6"]
        assert outbox.dropped == 2
    finally:
        outbox.close()


def test_an_outbox_from_before_measurements_keeps_its_events(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE pending (seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, body TEXT NOT NULL);"
        "CREATE TABLE sequence (id INTEGER PRIMARY KEY CHECK (id = 1), last_seq INTEGER NOT NULL);"
        "INSERT INTO sequence VALUES (1, 7); INSERT INTO pending VALUES (7, 't', 'old call');"
    )
    db.commit()
    db.close()
    outbox = Outbox(path)
    try:
        assert outbox.add(_message("new")) == 8
        assert [e.body for e in outbox.pending()] == ["old call", "new 8"]
    finally:
        outbox.close()


def test_measurements_stored_before_sizes_were_kept_count_against_the_quota_as_before(
    tmp_path: Path,
) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE pending (seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, body TEXT NOT NULL,"
        " droppable INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE sequence (id INTEGER PRIMARY KEY CHECK (id = 1), last_seq INTEGER NOT NULL);"
        "INSERT INTO sequence VALUES (1, 2);"
        "INSERT INTO pending VALUES (1, 't', 'm é 1', 1), (2, 't', 'm é 2', 1);"
    )
    db.commit()
    db.close()
    outbox = Outbox(path, max_droppable=10, max_droppable_bytes=12)
    try:
        assert outbox._droppable == (2, 10)  # characters, as len() counts them
        outbox.mark_sent(1)
        assert outbox._droppable == (1, 5)
        outbox.add_many([], [_message("m2")])  # "m2 3": 4 more, 9 of the 12
        outbox.add_many([], [_message("m3")])  # 13: over it, the old one goes (its 5)
        assert [e.seq for e in outbox.pending()] == [3, 4]
        assert (outbox.dropped, outbox._droppable) == (1, (2, 8))
        outbox.mark_sent(3, 4)
        assert outbox._droppable == (0, 0)
    finally:
        outbox.close()
    reopened = Outbox(path)
    try:
        assert (reopened.pending(), reopened._droppable) == ([], (0, 0))
    finally:
        reopened.close()


def _head(seq: int = 1) -> dict[str, object]:
    return {
        "event_id": f"edge-1:{seq}",
        "edge_id": "edge-1",
        "seq": seq,
        "ts": utc_now(),
        "site": "p",
        "area": "a",
        "line": "l",
    }


def test_a_call_without_a_part_has_exactly_the_v1_keys() -> None:
    call = Event(**_head(), kind="call", station="st10", payload=CallPayload(call_type="help"))
    keys = list(json.loads(event_json(call)))
    assert keys == [
        "event_id", "edge_id", "seq", "ts", "site", "area", "line", "station", "kind", "payload",
    ]  # fmt: skip
    with_part = call.model_copy(update={"part": PartRef(serial="P1")})
    assert json.loads(event_json(with_part))["part"] == {"serial": "P1"}
    assert parse_any_event(event_json(with_part)) == with_part


def test_every_kind_parses_to_its_own_model_and_unknown_kinds_are_refused() -> None:
    anomaly = {
        **_head(2), "kind": "anomaly", "station": "st10",
        "payload": {
            "characteristic": "bore", "chart": "imr", "measurement": "bore", "tests": [1, 5],
            "value": 10.4, "center": 10.0, "lcl": 9.7, "ucl": 10.3, "subgroup": 31,
        },
    }  # fmt: skip
    measurement = {
        **_head(3), "kind": "measurement",
        "payload": {"readings": [{"station": "st10", "name": "bore", "value": 10.01}]},
    }  # fmt: skip
    status = {
        **_head(4), "kind": "device_status",
        "payload": {"device": "plc1", "status": "offline", "reason": ""},
    }  # fmt: skip
    for data, model in (
        (anomaly, AnomalyEvent),
        (measurement, MeasurementEvent),
        (status, DeviceStatusEvent),
    ):
        text = json.dumps(data, default=str)
        assert isinstance(parse_any_event(text), model)
        # The v1 call model (what the hub validates today) refuses the new kinds.
        with pytest.raises(ValidationError):
            Event.model_validate_json(text)
    with pytest.raises(ValidationError, match="tag"):
        parse_any_event(json.dumps({**status, "kind": "alarm"}, default=str))
