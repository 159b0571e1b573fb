"""The whole path on the broker ``andon deploy mosquitto`` configures (passwords, ACL, TLS):
a press becomes a call, the hub's confirmation and light reach the edge and the PLC, a
hub restart makes the edge send again; an edge that speaks for another edge or line is
refused by the broker or by the hub, and the real edge's events are not lost to it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract.wire import CallPayload, Event, MeasurementEvent, Topics, event_json, utc_now
from testbed.plc_sim import SimulatedPlc
from tests.helpers.plant import AndonProcess, create_token, measurement_messages, wait_hub_healthy
from tests.helpers.secured_plant import (
    AREA,
    LIGHT_BASE,
    OUTPUTS,
    SITE,
    RawClient,
    SecuredBroker,
    SiteFiles,
    api_client,
    edge_process,
    outbox_events,
    press,
    write_site,
)
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.system

TOPICS = Topics()
NOT_AUTHORIZED = "Not authorized"


@dataclass
class Plant:
    files: SiteFiles
    broker: SecuredBroker
    plc: SimulatedPlc
    hub: AndonProcess
    edge: AndonProcess
    api: httpx.Client

    def press(self, coil: int) -> None:
        press(self.plc, coil)

    def outbox_empty(self) -> bool:
        return outbox_events(self.files, "line1") == []

    def calls(self) -> list[dict[str, Any]]:
        response = self.api.get("/api/calls", params={"limit": "100"})
        response.raise_for_status()
        calls: list[dict[str, Any]] = response.json()["calls"]
        return [call for call in calls if call["area"] == AREA]

    def calls_when(self, count: int) -> list[dict[str, Any]]:
        """The calls once there are ``count`` of them, [] until then."""
        calls = self.calls()
        return calls if len(calls) >= count else []

    def edge_status(self, edge_id: str) -> str | None:
        edges = self.api.get("/api/edges").json()["edges"]
        return next((e["status"] for e in edges if e["edge_id"] == edge_id), None)

    def st0_light(self) -> dict[str, bool]:
        return {name: self.plc.coil(LIGHT_BASE + i) for i, name in enumerate(OUTPUTS)}

    def rejected(self, reason: str) -> float:
        name = f'andon_hub_messages_rejected_total{{reason="{reason}"}} '
        lines = self.api.get("/metrics").text.splitlines()
        return next((float(line.split()[-1]) for line in lines if line.startswith(name)), 0.0)

    def raw(self, user: str) -> RawClient:
        return RawClient(user, self.broker, self.files.ca)


@pytest.fixture
def plant(tmp_path: Path, plc: SimulatedPlc) -> Iterator[Plant]:
    files, broker = write_site(tmp_path, plc)
    hub = AndonProcess("hub", files.hub, tmp_path / "hub.log")
    edge = edge_process(files, "line1")
    token = create_token(files.hub, "admin", "admin")
    broker.start()
    try:
        hub.start()
        with api_client(files, token) as api:
            wait_hub_healthy(api)
            edge.start()
            started = Plant(files, broker, plc, hub, edge, api)
            wait_until(lambda: started.edge_status("edge-line1") == "online", what="edge online")
            yield started
    finally:
        edge.stop()
        hub.stop()
        broker.stop()


def test_a_press_becomes_a_call_confirmed_and_lit_and_a_hub_restart_makes_the_edge_resend(
    plant: Plant,
) -> None:
    plant.press(0)
    (call,) = wait_until(plant.calls, what="the call of st0")
    assert (call["line"], call["station"], call["state"]) == ("line1", "st0", "raised")
    # The hub's confirmation reached the edge (only it empties the outbox) ...
    wait_until(plant.outbox_empty, what="the confirmation")
    # ... and so did its light: amber, flashing, the buzzer on, written to the PLC.
    lit = {"amber": True, "flashing": True, "buzzer": True, "red": False, "green": False}
    wait_until(lambda: lit.items() <= plant.st0_light().items(), what="st0's light")
    assert "hub online (session" in plant.edge.log()
    # The hub goes, a press waits in the outbox; the broker is replaced and forgets the
    # hub's queued session: only the edge, seeing the hub come back, can send it again.
    plant.hub.stop()
    plant.press(1)
    wait_until(lambda: not plant.outbox_empty(), what="the press in the outbox")
    plant.broker.stop()
    plant.broker.forget()
    plant.broker.start()
    plant.hub.start()
    wait_hub_healthy(plant.api, what="the hub back")
    wait_until(
        lambda: {c["station"] for c in plant.calls()} == {"st0", "st1"},
        timeout=40,
        what="st1's call, sent again by the edge",
    )
    wait_until(plant.outbox_empty, what="the outbox confirmed")
    assert plant.edge.log().count("hub online (session") >= 2


def forged_call(seq: int, line: str, station: str) -> str:
    return event_json(
        Event(
            event_id=f"edge-line2:{seq}", edge_id="edge-line2", seq=seq, ts=utc_now(),
            kind="call", site=SITE, area=AREA, line=line, station=station,
            payload=CallPayload(call_type="maintenance"),
        )
    )  # fmt: skip


def forged_measurement(edge_id: str, seq: int) -> str:
    return event_json(
        MeasurementEvent.model_validate(
            {
                "event_id": f"{edge_id}:{seq}", "edge_id": edge_id, "seq": seq,
                "ts": utc_now(), "site": SITE, "area": AREA, "line": "line2",
                "kind": "measurement",
                "payload": {"readings": [{"station": "st30", "name": "bore", "value": 9.0}]},
            }
        )
    )  # fmt: skip


def try_forgeries(edge1: RawClient) -> dict[str, str]:
    """Each forgery of edge-line1, by topic: the broker's answer to it."""
    own_st0 = TOPICS.station_event(SITE, AREA, "line1", "st0", "edge-line1")
    st30_as_line2 = TOPICS.station_event(SITE, AREA, "line2", "st30", "edge-line2")
    st30_as_line1 = TOPICS.station_event(SITE, AREA, "line2", "st30", "edge-line1")
    tries = [
        # Reach the hub: the ACL lets edge-line1 write these, the hub must refuse them.
        (own_st0, forged_call(1, "line1", "st0")),
        (own_st0, forged_call(2, "line2", "st30")),
        (TOPICS.measurement(SITE, "edge-line1"), forged_measurement("edge-line1", 50)),
        (TOPICS.measurement(SITE, "edge-line1"), forged_measurement("edge-line2", 3)),
        # Refused by the broker.
        (st30_as_line2, forged_call(3, "line2", "st30")),
        (st30_as_line1, forged_call(4, "line2", "st30")),
        (TOPICS.event(SITE, AREA, "line1", "st0"), forged_call(5, "line1", "st0")),
        (TOPICS.event(SITE, AREA, "line2", "st30"), forged_call(6, "line2", "st30")),
        (TOPICS.measurement(SITE, "edge-line2"), forged_measurement("edge-line2", 7)),
        (TOPICS.edge_event(SITE, "edge-line2"), forged_call(8, "line2", "st30")),
        (TOPICS.edge_ack(SITE, "edge-line2"), json.dumps({"confirmed": [[1, 9]]})),
        (TOPICS.edge_status(SITE, "edge-line2"), '{"status":"offline","session":99}'),
        (TOPICS.hub_status(SITE), '{"status":"offline","session":99}'),
        (TOPICS.light(SITE, AREA, "line2", "st30"), "{}"),
        (TOPICS.light(SITE, AREA, "line1", "st0"), "{}"),
    ]
    return {f"{i}: {topic}": edge1.publish(topic, body) for i, (topic, body) in enumerate(tries)}


def test_edge_line1s_forgeries_fail_and_edge_line2s_events_all_become_calls(
    plant: Plant,
) -> None:
    edge1, edge2 = plant.raw("edge-line1"), plant.raw("edge-line2")
    try:
        edge2.subscribe(TOPICS.edge_ack(SITE, "edge-line2"))
        answers = try_forgeries(edge1)
        assert list(answers.values()) == ["Success"] * 4 + [NOT_AUTHORIZED] * 11, answers
        wait_until(lambda: plant.rejected("edge_mismatch") >= 3, what="the hub's refusals")
        wait_until(lambda: plant.rejected("line_not_served") >= 1, what="the measurement's")
        metrics = plant.api.get("/metrics").text
        assert measurement_messages(metrics, "rejected") == 2
        assert measurement_messages(metrics, "stored") == 0
        assert plant.calls() == []
        assert edge2.received == []  # no confirmation, no rejection of edge-line2's numbers
        # What edge-line1 may read: the hub's status, its own status, line 1's lights (all
        # retained); not line 2's (retained too), nor edge-line2's confirmations. Its own
        # light is subscribed again last: once it comes again, everything else has come.
        edge1.subscribe(
            TOPICS.edge_ack(SITE, "edge-line2"), TOPICS.light_filter(SITE, AREA, "line2"), "#"
        )
        own_light = TOPICS.light(SITE, AREA, "line1", "st0")
        edge1.subscribe(own_light)
        wait_until(lambda: edge1.topics().count(own_light) >= 2, what="edge-line1's own light")
        assert set(edge1.topics()) == {
            TOPICS.hub_status(SITE), TOPICS.edge_status(SITE, "edge-line1"), own_light,
            TOPICS.light(SITE, AREA, "line1", "st1"),
        }  # fmt: skip
        # The real edge-line2: its first events carry the numbers edge-line1 used.
        line2 = edge_process(plant.files, "line2")
        line2.start()
        try:
            wait_until(lambda: plant.edge_status("edge-line2") == "online", what="edge-line2")
            for coil in (30, 31, 32):
                plant.press(coil)
            calls = wait_until(lambda: plant.calls_when(3), what="line 2's three calls")
            assert sorted((c["line"], c["station"]) for c in calls) == [
                ("line2", "st30"), ("line2", "st31"), ("line2", "st32")
            ]  # fmt: skip
            assert [json.loads(body)["rejected"] for _, body in edge2.received] == [
                [] for _ in edge2.received
            ]
        finally:
            line2.stop()
    finally:
        edge1.close()
        edge2.close()
