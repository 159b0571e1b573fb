"""The hub's side of delivery: confirmations after the commit, session-numbered edge
statuses, faults kept in the audit log, and each station's light from its open calls."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from contract.wire import FaultEvent, FaultPayload, make_event_id, utc_now
from hub.access.permissions import Role
from hub.calls.station_events import IngestOutcome
from hub.db.tables import calls
from hub.edges.ingest import Rejection
from hub.edges.lights import LightPublisher
from hub.edges.liveness import list_edges, set_edge_status
from tests.helpers.hub import SITE, HubUnderTest

pytestmark = pytest.mark.asyncio


def _status_topic(hub: HubUnderTest, edge_id: str = "edge-a") -> str:
    return hub.ingest.topics.edge_status(SITE, edge_id)


def _status(status: str, session: int) -> bytes:
    return json.dumps({"status": status, "session": session}).encode()


async def test_a_batch_confirms_each_edge_its_applied_and_duplicate_events_as_ranges(
    hub: HubUnderTest,
) -> None:
    first, second, third = hub.press("st10"), hub.press("st10"), hub.press("st20")
    hub.ingest_presses(first)
    bad_station = hub.press("st99")  # valid envelope, unknown station: never will apply
    report = hub.ingest.handle_batch([first, second, third, bad_station, ("x/y", b"{")])
    assert report.results[:4] == [
        IngestOutcome.DUPLICATE, IngestOutcome.JOINED, IngestOutcome.NEW_CALL,
        Rejection.UNKNOWN_STATION,
    ]  # fmt: skip
    assert report.acks == {"edge-test": ([(1, 3)], [(4, 4)])}


async def test_an_offline_of_an_older_session_is_ignored_and_a_newer_one_counts(
    hub: HubUnderTest,
) -> None:
    store, now = hub.store, utc_now()
    assert set_edge_status(store, "edge-a", "online", 5, now) is True
    assert set_edge_status(store, "edge-a", "offline", 4, now) is False  # a late will
    assert set_edge_status(store, "edge-a", "online", 5, now) is False  # a rebirth: no news
    (edge,) = list_edges(store, after=None, limit=10)
    assert (edge["status"], edge["session"]) == ("online", 5)
    assert set_edge_status(store, "edge-a", "offline", 5, now + timedelta(seconds=1)) is True
    assert set_edge_status(store, "edge-a", "online", 6, now + timedelta(seconds=2)) is True
    (edge,) = list_edges(store, after=None, limit=10)
    assert (edge["status"], edge["session"]) == ("online", 6)


async def test_a_plain_offline_from_anyone_cannot_undo_an_edge_with_sessions(
    hub: HubUnderTest,
) -> None:
    hub.ingest.handle_batch([(_status_topic(hub), _status("online", 3))])
    report = hub.ingest.handle_batch(
        [(_status_topic(hub), b"offline"), (_status_topic(hub), b"{not a status")]
    )
    assert report.results == [None, Rejection.INVALID]
    (edge,) = list_edges(hub.store, after=None, limit=10)
    assert (edge["status"], edge["session"]) == ("online", 3)


async def test_an_edge_from_before_sessions_still_goes_online_and_offline(
    hub: HubUnderTest,
) -> None:
    hub.ingest.handle_batch([(_status_topic(hub, "old"), b"online")])
    hub.ingest.handle_batch([(_status_topic(hub, "old"), b"offline")])
    (edge,) = list_edges(hub.store, after=None, limit=10)
    assert (edge["edge_id"], edge["status"], edge["session"]) == ("old", "offline", 0)


async def test_a_fault_at_a_station_is_kept_once_and_shown_in_the_audit_log(
    hub: HubUnderTest,
) -> None:
    event = FaultEvent(
        event_id=make_event_id("edge-a", 7), edge_id="edge-a", seq=7, ts=utc_now(),
        kind="fault", site=SITE, area="assembly", line="line1", station="st10",
        payload=FaultPayload(fault="light_mismatch", device="plc1", expected={"amber": 1},
                             read_back={"amber": 0}, detail="outputs read back wrong: amber"),
    )  # fmt: skip
    message = (
        hub.ingest.topics.event(SITE, "assembly", "line1", "st10"),
        event.model_dump_json().encode(),
    )
    assert hub.ingest_presses(message, message) == [IngestOutcome.FAULT, IngestOutcome.DUPLICATE]
    async with hub.client(Role.ADMIN) as admin:
        entries = (await admin.get("/api/audit")).json()["entries"]
    (fault,) = [e for e in entries if e["action"] == "station.light_mismatch"]
    assert (fault["actor"], fault["target"]) == ("edge-a", "station:assembly/line1/st10")
    assert fault["detail"]["read_back"] == {"amber": 0}


async def test_a_historical_event_is_applied_but_not_counted_as_ingest_lag(
    hub: HubUnderTest,
) -> None:
    topic, body = hub.press("st10", at=utc_now() - timedelta(hours=1))
    historical = json.dumps({**json.loads(body), "historical": True}).encode()
    report = hub.ingest.handle_batch([(topic, historical)])
    assert report.results == [IngestOutcome.NEW_CALL]
    assert report.lags_s == []


async def test_a_station_light_follows_its_most_urgent_open_call_and_the_line_stop(
    hub: HubUnderTest,
) -> None:
    lights = LightPublisher(
        config=hub.app.state.config, store=hub.store, changes=hub.app.state.changes
    )
    st10, st20 = ("assembly", "line1", "st10"), ("assembly", "line1", "st20")
    idle = lights.lights([st10, st20])
    assert (idle[st10].colour, idle[st10].state, idle[st10].line_stop) == ("green", "idle", False)
    call_id = hub.raise_call("st10")
    raised = lights.lights([st10])[st10]
    assert (raised.colour, raised.flashing, raised.buzzer) == ("amber", True, True)
    with hub.store.write() as conn:
        conn.execute(update(calls).where(calls.c.id == call_id).values(line_stop_at=utc_now()))
    assert lights.lights([st10])[st10].line_stop is True
    assert lights.lights([st20])[st20].colour == "green"
