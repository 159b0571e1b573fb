"""One measurement message per edge and poll cycle, whatever the number of links."""

from __future__ import annotations

import json
from pathlib import Path

from contract.wire import MAX_PAYLOAD_BYTES, MeasurementEvent, PartRef, make_event_id, utc_now
from edge.measurement_batch import MeasurementBatcher
from edge.measurement_json import ReadingRow
from edge.outbox import Outbox
from rules.spc.monitor import PointRow


class _Stored:
    """The batcher with what it returns stored in a real outbox, as the recorder does."""

    def __init__(self, batcher: MeasurementBatcher, outbox: Outbox) -> None:
        self.batcher, self.outbox = batcher, outbox

    def add(
        self, link: str, readings: list[ReadingRow], points: list[PointRow],
        parts: dict[str, PartRef],
    ) -> bool:  # fmt: skip
        messages = self.batcher.add(link, readings, points, parts)
        self.outbox.add_many([], messages)
        return bool(messages)


def _batcher(outbox: Outbox, interval_s: float = 3600.0) -> _Stored:
    def head(seq: int) -> dict[str, object]:
        return {
            "event_id": make_event_id("edge-1", seq), "edge_id": "edge-1", "seq": seq,
            "ts": utc_now(), "site": "p", "area": "a", "line": "l",
        }  # fmt: skip

    batcher = MeasurementBatcher(
        topic="andon/v1/p/edge/edge-1/measurement", head=head, interval_s=interval_s
    )
    return _Stored(batcher, outbox)


def _events(outbox: Outbox) -> list[MeasurementEvent]:
    return [MeasurementEvent.model_validate_json(e.body) for e in outbox.pending(10_000)]


def test_two_links_make_one_message_per_cycle_once_both_reported(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    batcher = _batcher(outbox)
    part = {"st20": PartRef(serial="P1")}
    try:
        # Until a link has reported it is not waited for: the first round learns them.
        batcher.add("tcp", [("st10", "speed", 1.5, None)], [], part)
        batcher.add("rtu", [("st20", "d", 1.0, "mm")], [], part)
        learned = len(_events(outbox))
        stored = []
        for cycle in range(3):
            point: PointRow = ("st20", "bore", "imr", "d", cycle + 1, 1.0, 1.0, 0.7, 1.3, ())
            stored.append(batcher.add("tcp", [("st10", "speed", 1.5, None)], [], part))
            stored.append(batcher.add("rtu", [("st20", "d", 1.0, "mm")], [point], part))
        events = _events(outbox)[learned:]
    finally:
        outbox.close()
    assert stored.count(True) == 3  # one message per round of both links
    for event in events[1:]:
        readings = {(r.station, r.name): r for r in event.payload.readings}
        assert set(readings) == {("st10", "speed"), ("st20", "d")}
        assert readings["st20", "d"].part == PartRef(serial="P1")
        assert readings["st10", "speed"].part is None
    points = [p for e in events for p in e.payload.points]
    assert [p.subgroup for p in points] == [1, 2]  # the third waits for the next round
    assert [p.characteristic for p in points] == ["bore", "bore"]


def test_a_silent_link_holds_nothing_back_beyond_one_interval(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    batcher = _batcher(outbox, interval_s=0.0)
    try:
        batcher.add("tcp", [("st10", "a", 1, None)], [], {})
        batcher.add("rtu", [("st10", "b", 2, None)], [], {})
        # The RTU link stops answering: the TCP link's cycles go out all the same.
        assert batcher.add("tcp", [("st10", "a", 3, None)], [], {})
        assert [e.payload.readings[0].value for e in _events(outbox)] == [1, 2, 3]
    finally:
        outbox.close()


def test_a_cycle_too_large_for_one_message_is_split_and_nothing_is_left_out(
    tmp_path: Path,
) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    batcher = _batcher(outbox)
    readings: list[ReadingRow] = [("st10", f"m{i:04d}", "x" * 200, None) for i in range(800)]
    try:
        assert batcher.add("tcp", readings, [], {})
        entries = outbox.pending(10_000)
        events = _events(outbox)
    finally:
        outbox.close()
    assert len(entries) > 1
    assert all(len(entry.body.encode()) <= MAX_PAYLOAD_BYTES for entry in entries)
    names = [r.name for e in events for r in e.payload.readings]
    assert names == [f"m{i:04d}" for i in range(800)]
    assert all(json.loads(entry.body)["kind"] == "measurement" for entry in entries)
