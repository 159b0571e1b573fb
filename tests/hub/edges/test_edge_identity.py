"""Who sent an event is what its topic proves: an edge cannot speak for another edge or for
a line the hub's file does not give it, and a forgery changes nothing, not even the other
edge's confirmations."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from contract.wire import (
    CallPayload,
    Event,
    MeasurementEvent,
    Topics,
    event_json,
    make_event_id,
    utc_now,
)
from hub.calls.station_events import IngestOutcome
from hub.config.file import HubConfig, load_hub_config
from hub.edges.ingest import Rejection
from hub.measurements.intake import MeasurementCheck
from hub.process.app import create_app
from tests.helpers.hub import SITE, HubUnderTest, hub_settings
from tests.helpers.plant import write_yaml

TOPICS = Topics()
AREA = "assembly"


def guarded_settings(database_url: str) -> dict[str, Any]:
    """line1 and line2 with an edge each; line3 served by two edges."""
    settings = hub_settings(database_url)
    lines = settings["areas"][0]["lines"]
    for line in lines:
        line["edges"] = [f"edge-{line['id']}"]
    lines.append({"id": "line3", "stations": [{"id": "st40"}], "edges": ["edge-a", "edge-b"]})
    return settings


@pytest_asyncio.fixture
async def hub(tmp_path: Path) -> AsyncIterator[HubUnderTest]:
    settings = guarded_settings(f"sqlite:///{tmp_path / 'hub.sqlite'}")
    config_path = write_yaml(tmp_path / "hub.yaml", settings)
    app = create_app(load_hub_config(config_path), config_path=config_path)
    async with app.router.lifespan_context(app):
        yield HubUnderTest(app, config_path)


def call(edge_id: str, seq: int, line: str, station: str, *, topic_edge: str | None) -> Any:
    """(topic, payload) of a call that names ``edge_id``, on the new layout's topic of
    ``topic_edge`` or, with None, on the old layout's."""
    event = Event(
        event_id=make_event_id(edge_id, seq), edge_id=edge_id, seq=seq, ts=utc_now(),
        kind="call", site=SITE, area=AREA, line=line, station=station,
        payload=CallPayload(call_type="maintenance"),
    )  # fmt: skip
    topic = (
        TOPICS.event(SITE, AREA, line, station)
        if topic_edge is None
        else TOPICS.station_event(SITE, AREA, line, station, topic_edge)
    )
    return topic, event_json(event).encode()


def rejected_count(hub: HubUnderTest, reason: str) -> float:
    value = hub.app.state.metrics.registry.get_sample_value(
        "andon_hub_messages_rejected_total", {"reason": reason}
    )
    return float(value or 0.0)


@pytest.mark.asyncio
async def test_a_forged_edge_id_is_refused_and_the_real_edges_events_become_calls(
    hub: HubUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    """The forgery of the report: edge-line1 spoke as edge-line2 and line 2's calls,
    taken for duplicates of it, were lost."""
    forgeries = [
        # On its own line's topic, naming edge-line2 for a station of line 1 ...
        call("edge-line2", 1, "line1", "st10", topic_edge="edge-line1"),
        # ... or of line 2 on line 1's topic (the station's topic disagrees too) ...
        call("edge-line2", 2, "line2", "st30", topic_edge="edge-line1"),
        # ... or on the old layout, which names no edge.
        call("edge-line2", 3, "line1", "st10", topic_edge=None),
    ]
    with caplog.at_level(logging.WARNING, logger="hub.edges.ingest"):
        report = hub.ingest.handle_batch(forgeries)
    report.count_in(hub.app.state.metrics)
    assert report.results == [
        Rejection.EDGE_MISMATCH, Rejection.EDGE_MISMATCH, Rejection.LINE_NOT_SERVED
    ]  # fmt: skip
    assert report.acks == {}  # nobody is told anything, edge-line2 least of all
    assert hub.store_calls() == []
    assert rejected_count(hub, "edge_mismatch") == 2
    assert rejected_count(hub, "line_not_served") == 1
    topic = forgeries[0][0]
    assert f"rejected message on {topic}: edge_mismatch: envelope names edge edge-line2" in (
        caplog.text
    )
    real = [call("edge-line2", seq, "line2", "st30", topic_edge="edge-line2") for seq in (1, 2, 3)]
    report = hub.ingest.handle_batch(real)
    assert report.results == [IngestOutcome.NEW_CALL, IngestOutcome.JOINED, IngestOutcome.JOINED]
    assert report.acks == {"edge-line2": ([(1, 3)], [])}
    (line2_call,) = hub.store_calls()
    assert (line2_call.line, line2_call.presses) == ("line2", 3)


@pytest.mark.asyncio
async def test_an_edge_cannot_speak_for_a_line_it_does_not_serve(hub: HubUnderTest) -> None:
    messages = [
        call("edge-line1", 1, "line2", "st30", topic_edge="edge-line1"),
        call("edge-stranger", 1, "line1", "st10", topic_edge="edge-stranger"),
    ]
    report = hub.ingest.handle_batch(messages)
    assert report.results == [Rejection.LINE_NOT_SERVED, Rejection.LINE_NOT_SERVED]
    assert report.acks == {}
    assert hub.store_calls() == []


@pytest.mark.asyncio
async def test_the_old_layout_is_taken_only_from_a_lines_single_edge(hub: HubUnderTest) -> None:
    report = hub.ingest.handle_batch(
        [
            call("edge-line1", 1, "line1", "st10", topic_edge=None),  # an edge of before
            call("edge-a", 1, "line3", "st40", topic_edge=None),  # which of two edges?
            call("edge-b", 1, "line3", "st40", topic_edge="edge-b"),
        ]
    )
    assert report.results == [
        IngestOutcome.NEW_CALL, Rejection.EDGE_UNPROVEN, IngestOutcome.NEW_CALL
    ]  # fmt: skip
    assert report.acks == {"edge-line1": ([(1, 1)], []), "edge-b": ([(1, 1)], [])}


@pytest.mark.asyncio
async def test_only_a_proven_edge_is_told_its_event_is_rejected(hub: HubUnderTest) -> None:
    """An unknown station's event is rejected for good, to the edge that sent it; one
    whose envelope disagrees with its topic is named to nobody (the envelope may be
    another edge's)."""
    unknown = call("edge-line1", 7, "line1", "st99", topic_edge="edge-line1")
    _, body = call("edge-line1", 8, "line1", "st10", topic_edge="edge-line1")
    elsewhere = (TOPICS.station_event(SITE, AREA, "line1", "st20", "edge-line1"), body)
    report = hub.ingest.handle_batch([unknown, elsewhere])
    assert report.results == [Rejection.UNKNOWN_STATION, Rejection.TOPIC_MISMATCH]
    assert report.acks == {"edge-line1": ([], [(7, 7)])}


@pytest.mark.asyncio
async def test_a_device_status_is_taken_from_its_own_edge_for_its_own_line(
    hub: HubUnderTest,
) -> None:
    def status(edge_id: str, line: str, *, topic_edge: str) -> tuple[str, bytes]:
        event = {
            "event_id": f"{edge_id}:5", "edge_id": edge_id, "seq": 5,
            "ts": utc_now().isoformat(), "kind": "device_status", "site": SITE,
            "area": AREA, "line": line,
            "payload": {"device": "plc", "status": "offline", "reason": "timeout"},
        }  # fmt: skip
        return TOPICS.edge_event(SITE, topic_edge), json.dumps(event).encode()

    report = hub.ingest.handle_batch(
        [
            status("edge-line2", "line2", topic_edge="edge-line1"),
            status("edge-line1", "line2", topic_edge="edge-line1"),
            status("edge-line2", "line2", topic_edge="edge-line2"),
        ]
    )
    assert report.results == [
        Rejection.EDGE_MISMATCH, Rejection.LINE_NOT_SERVED, IngestOutcome.DEVICE_STATUS
    ]  # fmt: skip
    assert report.acks == {"edge-line2": ([(5, 5)], [])}


def measurement(edge_id: str, line: str, *, topic_edge: str) -> tuple[str, bytes]:
    station = {"line1": "st10", "line2": "st30"}[line]
    event = MeasurementEvent.model_validate(
        {
            "event_id": make_event_id(edge_id, 1), "edge_id": edge_id, "seq": 1,
            "ts": utc_now(), "site": SITE, "area": AREA, "line": line, "kind": "measurement",
            "payload": {"readings": [{"station": station, "name": "bore", "value": 10.0}]},
        }
    )  # fmt: skip
    return TOPICS.measurement(SITE, topic_edge), event_json(event).encode()


def test_a_measurement_is_taken_from_its_own_edge_for_its_own_line(tmp_path: Path) -> None:
    """The report's second forgery: edge-line1's measurement naming line 2 was stored as
    line 2's data."""
    config = HubConfig.model_validate(guarded_settings(f"sqlite:///{tmp_path / 'x.sqlite'}"))
    check = MeasurementCheck(lambda: config)
    forged_line = measurement("edge-line1", "line2", topic_edge="edge-line1")
    forged_edge = measurement("edge-line2", "line2", topic_edge="edge-line1")
    assert check(*forged_line) is Rejection.LINE_NOT_SERVED
    assert check(*forged_edge) is Rejection.EDGE_MISMATCH
    own = check(*measurement("edge-line2", "line2", topic_edge="edge-line2"))
    assert isinstance(own, MeasurementEvent)
    assert own.line == "line2"


def test_a_line_that_lists_no_edges_takes_any_edges_word(tmp_path: Path) -> None:
    """As hubs before the list did: their files keep working."""
    config = HubConfig.model_validate(hub_settings(f"sqlite:///{tmp_path / 'x.sqlite'}"))
    check = MeasurementCheck(lambda: config)
    taken = check(*measurement("edge-anyone", "line2", topic_edge="edge-anyone"))
    assert isinstance(taken, MeasurementEvent)
    assert check(*measurement("edge-anyone", "line2", topic_edge="edge-x")) is (
        Rejection.EDGE_MISMATCH
    )


def with_nan_value(message: tuple[str, bytes]) -> tuple[str, bytes]:
    """The message turned into an anomaly whose value is NaN: the envelope stays valid."""
    topic, payload = message
    event = json.loads(payload)
    event["kind"] = "anomaly"
    event["payload"] = {
        "characteristic": "force", "chart": "imr", "measurement": "force", "tests": [1],
        "value": "NaN", "center": 0.0, "lcl": -1.0, "ucl": 1.0, "subgroup": 1,
    }  # fmt: skip
    return topic, json.dumps(event).replace('"NaN"', "NaN").encode()


@pytest.mark.asyncio
async def test_a_bad_payload_under_a_forged_envelope_is_named_to_no_edge(
    hub: HubUnderTest,
) -> None:
    """A payload the contract refuses is named to its edge so that the edge stops sending
    it; under another edge's envelope that would make the other edge drop its events."""
    forged = [
        with_nan_value(call("edge-line2", 7, "line2", "st30", topic_edge="edge-line1")),
        # The old layout proves no edge where a line has two (it is taken, and named, only
        # from a line's single edge, as an event would be).
        with_nan_value(call("edge-a", 8, "line3", "st40", topic_edge=None)),
        with_nan_value(call("edge-line1", 9, "line2", "st30", topic_edge="edge-line1")),
    ]
    report = hub.ingest.handle_batch(forged)
    assert report.results == [Rejection.INVALID] * 3
    assert report.acks == {}
    own = with_nan_value(call("edge-line2", 7, "line2", "st30", topic_edge="edge-line2"))
    report = hub.ingest.handle_batch([own])
    assert report.results == [Rejection.INVALID]
    assert report.acks == {"edge-line2": ([], [(7, 7)])}
