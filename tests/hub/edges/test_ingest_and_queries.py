"""Ingest applies batches exactly once, and the call list pages and filters correctly."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import sqlalchemy

from contract.wire import MAX_SEQ, utc_now
from hub.access.permissions import Role
from hub.calls.lifecycle import Actor, Source
from hub.calls.rows import insert_call
from hub.calls.station_events import IngestOutcome, find_open_calls
from hub.db.tables import calls
from hub.edges.ingest import Rejection
from tests.helpers.hub import HubUnderTest

pytestmark = pytest.mark.asyncio


async def test_a_batch_is_applied_once_even_when_the_broker_delivers_it_again(
    hub: HubUnderTest,
) -> None:
    presses = [hub.press("st10"), hub.press("st10"), hub.press("st20", "help")]
    first = hub.ingest_presses(*presses, presses[1])  # a repeat inside the batch, too
    assert first == [
        IngestOutcome.NEW_CALL,
        IngestOutcome.JOINED,
        IngestOutcome.NEW_CALL,
        IngestOutcome.DUPLICATE,
    ]
    again = hub.ingest_presses(*reversed(presses))
    assert again == [IngestOutcome.DUPLICATE] * 3
    calls = {c.station: c.presses for c in hub.store_calls()}
    assert calls == {"st10": 2, "st20": 1}


async def test_a_bad_message_is_rejected_without_holding_back_its_neighbours(
    hub: HubUnderTest,
) -> None:
    good = hub.press("st10")
    topic, body = hub.press("st20")
    too_big = json.loads(body) | {"seq": MAX_SEQ + 1, "event_id": f"edge-test:{MAX_SEQ + 1}"}
    results = hub.ingest_presses(
        (topic, json.dumps(too_big).encode()),
        good,
        (topic, b"{not json"),
        hub.press("st10", "no-such-type"),
    )
    assert results == [
        Rejection.INVALID,
        IngestOutcome.NEW_CALL,
        Rejection.MALFORMED,
        Rejection.UNKNOWN_CALL_TYPE,
    ]
    biggest = json.loads(body) | {"seq": MAX_SEQ, "event_id": f"edge-test:{MAX_SEQ}"}
    assert hub.ingest_presses((topic, json.dumps(biggest).encode())) == [IngestOutcome.NEW_CALL]
    metrics = hub.app.state.metrics.render().decode()
    assert 'andon_hub_messages_rejected_total{reason="invalid"} 1.0' in metrics


async def test_the_arrival_button_marks_the_stations_acknowledged_call_arrived(
    hub: HubUnderTest,
) -> None:
    call_id = hub.raise_call("st10")
    other = hub.raise_call("st20")
    async with hub.client(Role.RESPONDER) as responder:
        await responder.post(f"/api/calls/{call_id}/acknowledge")
    topic, body = hub.press("st10")
    arrival = json.loads(body) | {"kind": "arrival", "payload": {}}
    assert hub.ingest_presses((topic, json.dumps(arrival).encode())) == [IngestOutcome.ARRIVED]
    states = {c.id: (c.state, c.acknowledged_by) for c in hub.store_calls()}
    assert states == {call_id: ("arrived", "responder-all"), other: ("raised", None)}
    again = json.loads(hub.press("st10")[1]) | {"kind": "arrival", "payload": {}}
    assert hub.ingest_presses((topic, json.dumps(again).encode())) == [IngestOutcome.NO_OPEN_CALL]
    async with hub.client(Role.VIEWER) as viewer:
        timeline = (await viewer.get(f"/api/calls/{call_id}")).json()["timeline"]
    assert (timeline[-1]["action"], timeline[-1]["actor"], timeline[-1]["source"]) == (
        "arrived", "st10", "station"
    )  # fmt: skip


async def test_calls_come_in_pages_that_cover_every_call_once(hub: HubUnderTest) -> None:
    stations = ["st10", "st20"]
    for index in range(230):
        # Resolving keeps each press a call of its own.
        call_id = hub.raise_call(stations[index % 2])
        hub.store.transition(call_id, "cancel", utc_now(), actor=_tester())
    async with hub.client(Role.VIEWER) as viewer:
        seen: list[int] = []
        cursor = None
        pages = 0
        while True:
            params = {"limit": "100"} | ({"cursor": cursor} if cursor else {})
            page = (await viewer.get("/api/calls", params=params)).json()
            seen += [c["id"] for c in page["calls"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == 3
        assert seen == sorted(seen)
        assert len(seen) == len(set(seen)) == 230
        default = (await viewer.get("/api/calls")).json()
        assert len(default["calls"]) == 100
        assert (await viewer.get("/api/calls", params={"limit": "1001"})).status_code == 422
        newest = (await viewer.get("/api/calls", params={"order": "desc", "limit": "5"})).json()
        assert [c["id"] for c in newest["calls"]] == sorted(seen, reverse=True)[:5]


async def test_calls_filter_by_state_area_line_station_type_and_time(hub: HubUnderTest) -> None:
    now = utc_now()
    old = hub.raise_call("st10", at=now - timedelta(hours=2))
    hub.store.transition(old, "cancel", now, actor=_tester())
    quality = hub.raise_call("st20", "quality", at=now - timedelta(minutes=30))
    line2 = hub.raise_call("st30", "help", line="line2", at=now - timedelta(minutes=5))
    cases: list[tuple[dict[str, str | list[str]], list[int]]] = [
        ({"state": "raised"}, [quality, line2]),
        ({"state": ["raised", "cancelled"]}, [old, quality, line2]),
        ({"line": "line2"}, [line2]),
        ({"area": "assembly", "station": "st20"}, [quality]),
        ({"call_type": "quality"}, [quality]),
        ({"since": (now - timedelta(hours=1)).isoformat()}, [quality, line2]),
        ({"until": (now - timedelta(minutes=10)).isoformat()}, [old, quality]),
        ({"area": "machining"}, []),
    ]
    async with hub.client(Role.VIEWER) as viewer:
        for params, expected in cases:
            found = (await viewer.get("/api/calls", params=params)).json()["calls"]
            assert [c["id"] for c in found] == expected, params
        naive = await viewer.get("/api/calls", params={"since": "2026-01-01T00:00:00"})
        assert naive.status_code == 422


def _tester() -> Actor:
    return Actor("tester", Source.API)


async def test_at_most_one_call_is_open_per_station_and_call_type(hub: HubUnderTest) -> None:
    hub.raise_call("st10")
    values = {
        "site": "plant1", "area": "assembly", "line": "line1", "station": "st10",
        "call_type": "maintenance", "first_event_id": "x:1", "raised_at": utc_now(),
    }  # fmt: skip
    with pytest.raises(sqlalchemy.exc.IntegrityError), hub.store.write() as conn:
        insert_call(conn, values=values)
    assert [c.state for c in hub.store_calls()] == ["raised"]


async def test_the_open_calls_a_batch_reads_stay_its_own_until_it_commits(
    hub: HubUnderTest,
) -> None:
    call_id = hub.raise_call("st10")
    resolved = threading.Event()

    def resolve() -> None:
        hub.store.transition(call_id, "resolve", utc_now(), actor=_tester())
        resolved.set()

    with hub.store.write() as conn:
        # The batch has read the open call it will join, and not written yet.
        found = find_open_calls(conn, {("assembly", "line1", "st10")})
        assert [call.id for call in found.values()] == [call_id]
        resolver = threading.Thread(target=resolve)
        resolver.start()
        # The resolve waits for the batch (a row lock, or SQLite's write lock)...
        assert not resolved.wait(0.5)
        conn.execute(sqlalchemy.update(calls).where(calls.c.id == call_id).values(presses=2))
    resolver.join(timeout=10)
    # ... so it resolves the call with the press joined, not a call the press missed.
    assert resolved.is_set()
    (call,) = hub.store_calls()
    assert (call.state, call.presses) == ("resolved", 2)


def _anomaly(
    hub: HubUnderTest, station: str, characteristic: str, *, line: str = "line1"
) -> tuple[str, bytes]:
    topic, body = hub.press(station, line=line)
    event = json.loads(body) | {
        "kind": "anomaly",
        "payload": {
            "characteristic": characteristic, "chart": "imr", "measurement": "bore",
            "tests": [1, 5], "value": 10.42, "center": 10.0, "lcl": 9.7, "ucl": 10.3,
            "subgroup": 17,
        },
        "part": {"serial": "P-0042"},
    }  # fmt: skip
    return topic, json.dumps(event).encode()


async def test_anomalies_from_the_edge_are_kept_once_and_listed_by_line(
    hub: HubUnderTest,
) -> None:
    first = _anomaly(hub, "st10", "bore-diameter")
    results = hub.ingest_presses(first, first, _anomaly(hub, "st30", "torque", line="line2"))
    assert results == [IngestOutcome.ANOMALY, IngestOutcome.DUPLICATE, IngestOutcome.ANOMALY]
    async with hub.client(Role.VIEWER) as viewer:
        listed = (await viewer.get("/api/anomalies")).json()["anomalies"]
        assert [(a["station"], a["characteristic"]) for a in listed] == [
            ("st30", "torque"), ("st10", "bore-diameter")
        ]  # fmt: skip
        bore = listed[1]
        assert (bore["tests"], bore["value"], bore["ucl"], bore["part_serial"]) == (
            [1, 5], 10.42, 10.3, "P-0042"
        )  # fmt: skip
        only = await viewer.get("/api/anomalies", params={"characteristic": "torque"})
        assert [a["station"] for a in only.json()["anomalies"]] == ["st30"]
    async with hub.client(Role.VIEWER, "line1") as line1:
        mine = (await line1.get("/api/anomalies")).json()["anomalies"]
        assert [a["line"] for a in mine] == ["line1"]
        assert (await line1.get("/api/anomalies", params={"line": "line2"})).status_code == 403


async def test_a_call_keeps_the_part_its_station_had(hub: HubUnderTest) -> None:
    topic, body = hub.press("st10")
    with_part = json.loads(body) | {"part": {"serial": "P-7", "lot": "L3"}}
    assert hub.ingest_presses((topic, json.dumps(with_part).encode())) == [IngestOutcome.NEW_CALL]
    async with hub.client(Role.VIEWER) as viewer:
        (call,) = (await viewer.get("/api/calls")).json()["calls"]
    assert (call["part_serial"], call["part_lot"]) == ("P-7", "L3")


async def test_a_device_an_edge_reports_offline_is_listed_until_it_is_back(
    hub: HubUnderTest,
) -> None:
    topic = hub.ingest.topics.edge_event("plant1", "edge-test")

    def status(seq: int, state: str) -> tuple[str, bytes]:
        event = {
            "event_id": f"edge-test:{seq}", "edge_id": "edge-test", "seq": seq,
            "ts": utc_now().isoformat(), "kind": "device_status", "site": "plant1",
            "area": "assembly", "line": "line1",
            "payload": {"device": "plc2", "status": state, "reason": "timeout"},
        }  # fmt: skip
        return topic, json.dumps(event).encode()

    assert hub.ingest_presses(status(1, "offline")) == [IngestOutcome.DEVICE_STATUS]
    async with hub.client(Role.VIEWER) as viewer:
        (device,) = (await viewer.get("/api/devices")).json()["devices"]
        assert (device["edge_id"], device["device"], device["status"]) == (
            "edge-test", "plc2", "offline"
        )  # fmt: skip
        hub.ingest_presses(status(2, "online"))
        (device,) = (await viewer.get("/api/devices")).json()["devices"]
        assert device["status"] == "online"
    wrong_edge = (hub.ingest.topics.edge_event("plant1", "other"), status(3, "offline")[1])
    assert hub.ingest_presses(wrong_edge) == [Rejection.EDGE_MISMATCH]
