"""The edge's word on a line stop the hub commanded lands on the call's timeline: set as
commanded, refused by the output (read back wrong), and released after the call."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import update

from contract.wire import FaultPayload, OutputPayload, make_event_id, utc_now
from hub.access.permissions import Role
from hub.db.tables import calls
from tests.helpers.hub import SITE, HubUnderTest

pytestmark = pytest.mark.asyncio


def _station_event(hub: HubUnderTest, kind: str, payload: dict[str, Any]) -> tuple[str, bytes]:
    hub.seq += 1
    body = {
        "event_id": make_event_id("edge-test", hub.seq), "edge_id": "edge-test",
        "seq": hub.seq, "ts": utc_now().isoformat(), "kind": kind, "site": SITE,
        "area": "assembly", "line": "line1", "station": "st10", "payload": payload,
    }  # fmt: skip
    topic = hub.ingest.topics.event(SITE, "assembly", "line1", "st10")
    return topic, json.dumps(body).encode()


def _line_stop(hub: HubUnderTest, value: int) -> tuple[str, bytes]:
    payload = OutputPayload(output="line_stop", value=1 if value else 0, device="plc1")
    return _station_event(hub, "output", payload.model_dump())


def _mismatch(hub: HubUnderTest, **read_back: int) -> tuple[str, bytes]:
    fault = FaultPayload(
        fault="light_mismatch", device="plc1", expected={"red": 1, "line_stop": 1},
        read_back={"red": 1, **read_back}, detail="outputs read back wrong",
    )  # fmt: skip
    return _station_event(hub, "fault", fault.model_dump(exclude_none=True))


async def _actions(hub: HubUnderTest, call_id: int) -> list[str]:
    async with hub.client(Role.VIEWER) as viewer:
        timeline = (await viewer.get(f"/api/calls/{call_id}")).json()["timeline"]
    return [entry["action"] for entry in timeline]


async def test_the_line_stop_outcomes_go_on_the_timeline_of_the_call_that_stopped_the_line(
    hub: HubUnderTest,
) -> None:
    stopping = hub.raise_call("st10")
    other = hub.raise_call("st10", "help")  # open at the same station, but no line stop
    with hub.store.write() as conn:
        conn.execute(update(calls).where(calls.c.id == stopping).values(line_stop_at=utc_now()))
    results = hub.ingest_presses(
        _mismatch(hub, line_stop=0), _mismatch(hub, line_stop=1), _line_stop(hub, 1)
    )
    assert results == ["fault", "fault", "output"]
    # The second mismatch is another output's (line stop read back right): not a failure.
    assert (await _actions(hub, stopping))[-2:] == ["line_stop_failed", "line_stop_set"]
    assert "line_stop_set" not in await _actions(hub, other)
    async with hub.client(Role.RESPONDER) as responder:
        body = {"reason_code": "adjusted"}
        assert (await responder.post(f"/api/calls/{stopping}/resolve", json=body)).is_success
    hub.ingest_presses(_line_stop(hub, 0))
    assert (await _actions(hub, stopping))[-1] == "line_stop_released"
    assert (await _actions(hub, other))[-1] == "raised"


async def test_an_output_event_with_no_line_stop_commanded_changes_no_timeline(
    hub: HubUnderTest,
) -> None:
    call_id = hub.raise_call("st10")
    assert hub.ingest_presses(_line_stop(hub, 1)) == ["output"]
    assert await _actions(hub, call_id) == ["raised"]
