"""The walking skeleton end to end: PLC coil -> edge agent -> Mosquitto -> hub -> API.

Every part is real: a Mosquitto process, a pymodbus server as the PLC, and ``andon hub``
and ``andon edge`` as child processes started through the command line.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as paho
import pytest
import sqlalchemy
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from contract.netutil import free_port
from contract.wire import CallPayload, Event, Topics, make_event_id, utc_now
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from tests.helpers.plant import AndonProcess, create_token, wait_hub_healthy, write_yaml
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.system

BUTTONS = [
    {
        "device": "plc1",
        "table": "coil",
        "address": 0,
        "station": "st10",
        "call_type": "maintenance",
    },
    {"device": "plc1", "table": "coil", "address": 1, "station": "st20", "call_type": "quality"},
]


@dataclass
class Plant:
    broker: MosquittoBroker
    plc: SimulatedPlc
    hub: AndonProcess
    edge: AndonProcess
    api: httpx.Client
    topics: Topics
    database_url: str

    def press(self, address: int) -> None:
        """A worker presses and releases a button wired to ``address``."""
        self.plc.set_coil(address, True)
        time.sleep(0.3)
        self.plc.set_coil(address, False)
        time.sleep(0.2)

    def calls(self, **params: str) -> list[dict[str, Any]]:
        response = self.api.get("/api/calls", params=params)
        response.raise_for_status()
        calls: list[dict[str, Any]] = response.json()["calls"]
        return calls

    def calls_once_there_are(self, count: int) -> list[dict[str, Any]]:
        """All the stations' calls, or [] while there are not yet ``count`` of them.

        An edge that goes offline (the broker stopped) raises a call of its own, in the
        ``system`` area; it is not one of the stations' calls."""
        calls = self.calls(area="assembly")
        return calls if len(calls) == count else []

    def metrics(self) -> str:
        return self.api.get("/metrics").text

    def publish_raw(self, topic: str, payload: bytes) -> None:
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id="test-publisher")
        client.connect(self.broker.host, self.broker.port)
        client.loop_start()
        client.publish(topic, payload, qos=1).wait_for_publish(timeout=5)
        client.loop_stop()
        client.disconnect()


@pytest.fixture
def plant(
    tmp_path: Path,
    broker: MosquittoBroker,
    plc: SimulatedPlc,
    topic_prefix: str,
    database_url: str,
) -> Iterator[Plant]:
    api_port = free_port()
    broker_settings = {"host": broker.host, "port": broker.port, "topic_prefix": topic_prefix}
    hub_config = write_yaml(
        tmp_path / "hub.yaml",
        {
            "site": "plant1",
            "broker": broker_settings,
            "storage": {"url": database_url},
            "api": {"host": "127.0.0.1", "port": api_port},
            "call_types": ["maintenance", "quality", "material", "help"],
            "reason_codes": ["tool-worn", "adjusted"],
            "areas": [
                {
                    "id": "assembly",
                    "lines": [
                        {"id": "line1", "stations": [{"id": "st10"}, {"id": "st20"}]},
                    ],
                }
            ],
        },
    )
    edge_config = write_yaml(
        tmp_path / "edge.yaml",
        {
            "edge_id": "edge-line1",
            "site": "plant1",
            "area": "assembly",
            "line": "line1",
            "broker": {**broker_settings, "keepalive_s": 2},
            "outbox": {"path": str(tmp_path / "outbox.sqlite3")},
            "poll_interval_s": 0.05,
            "debounce_s": 0.05,
            "devices": [{"kind": "modbus_tcp", "id": "plc1", "host": plc.host, "port": plc.port}],
            "buttons": BUTTONS,
        },
    )
    hub = AndonProcess("hub", hub_config, tmp_path / "hub.log")
    edge = AndonProcess("edge", edge_config, tmp_path / "edge.log")
    token = create_token(hub_config, "plant-admin", "admin")
    headers = {"Authorization": f"Bearer {token}"}
    try:
        hub.start()
        with httpx.Client(
            base_url=f"http://127.0.0.1:{api_port}", timeout=5, headers=headers
        ) as api:
            wait_hub_healthy(api)
            edge.start()
            topics = Topics(topic_prefix)
            yield Plant(broker, plc, hub, edge, api, topics, database_url)
    finally:
        edge.stop()
        hub.stop()


def _call_event(edge_id: str, seq: int, station: str, call_type: str) -> Event:
    """A press at ``station`` of line1, as an edge named ``edge_id`` would publish it."""
    return Event(
        event_id=make_event_id(edge_id, seq),
        edge_id=edge_id,
        seq=seq,
        ts=utc_now(),
        kind="call",
        site="plant1",
        area="assembly",
        line="line1",
        station=station,
        payload=CallPayload(call_type=call_type),
    )


def _edge_status(plant: Plant) -> str | None:
    edges = plant.api.get("/api/edges").json()["edges"]
    return edges[0]["status"] if edges else None


def test_coil_on_the_plc_becomes_an_open_call_at_the_hub(plant: Plant) -> None:
    wait_until(lambda: _edge_status(plant) == "online", what="edge online")
    plant.press(0)
    calls = wait_until(plant.calls, what="a call")
    assert len(calls) == 1
    call = calls[0]
    assert (call["line"], call["station"], call["call_type"]) == ("line1", "st10", "maintenance")
    assert call["state"] == "raised"
    assert call["first_event_id"] == "edge-line1:1"
    detail = plant.api.get(f"/api/calls/{call['id']}").json()
    assert {k: v for k, v in detail.items() if k not in ("durations", "timeline")} == {
        k: v for k, v in call.items() if k != "durations"
    }
    (raised,) = detail["timeline"]
    assert (raised["action"], raised["actor"], raised["source"]) == ("raised", "st10", "station")
    assert raised["at"] == call["raised_at"]


def test_presses_join_the_open_call_and_a_press_after_resolve_opens_a_new_one(
    plant: Plant,
) -> None:
    wait_until(lambda: _edge_status(plant) == "online", what="edge online")
    plant.press(0)
    # The second press once the first is a call: the release between them then lasts
    # well over a poll cycle even when the edge's cycles run late on a loaded machine.
    wait_until(lambda: plant.calls_once_there_are(1), what="the first press's call")
    plant.press(0)
    first = wait_until(lambda: [c for c in plant.calls() if c["presses"] == 2], what="2 presses")
    assert len(plant.calls()) == 1
    call_id = first[0]["id"]

    acked = plant.api.post(f"/api/calls/{call_id}/acknowledge")
    assert acked.json()["state"] == "acknowledged"
    assert plant.api.post(f"/api/calls/{call_id}/acknowledge").status_code == 409
    # A well-formed reason code the hub's file does not know: 409 (docs/access.md).
    refused = plant.api.post(f"/api/calls/{call_id}/resolve", json={"reason_code": "nope"})
    assert refused.status_code == 409
    resolved = plant.api.post(
        f"/api/calls/{call_id}/resolve", json={"reason_code": "tool-worn", "note": "replaced"}
    )
    assert resolved.json()["state"] == "resolved"
    assert resolved.json()["reason_code"] == "tool-worn"

    plant.press(0)
    calls = wait_until(lambda: plant.calls_once_there_are(2), what="a second call")
    assert [c["state"] for c in calls] == ["resolved", "raised"]
    assert [c["id"] for c in plant.calls(state="raised")] == [calls[1]["id"]]
    assert plant.calls(line="other-line") == []


def test_hub_restart_keeps_calls_and_ingests_what_was_published_while_down(
    plant: Plant,
) -> None:
    wait_until(lambda: _edge_status(plant) == "online", what="edge online")
    plant.press(0)
    (call,) = wait_until(plant.calls, what="a call")
    plant.api.post(f"/api/calls/{call['id']}/acknowledge").raise_for_status()

    assert plant.hub.stop() == 0
    plant.press(1)  # while the hub is down: the broker must queue it for the hub
    time.sleep(0.5)
    plant.hub.start()

    calls = wait_until(lambda: plant.calls_once_there_are(2), what="queued event")
    assert calls[0]["id"] == call["id"]
    assert calls[0]["state"] == "acknowledged"
    assert (calls[1]["station"], calls[1]["call_type"]) == ("st20", "quality")


def test_bad_payloads_are_rejected_counted_and_the_hub_keeps_working(plant: Plant) -> None:
    topic = plant.topics.event("plant1", "assembly", "line1", "st10")
    unknown_station_topic = plant.topics.event("plant1", "assembly", "line1", "st99")
    event = _call_event("rogue", 1, "st99", "maintenance")
    plant.publish_raw(topic, b"{not json")
    plant.publish_raw(unknown_station_topic, event.model_dump_json().encode())
    huge = json.dumps({"x": "y" * 1_000_000}).encode()
    plant.publish_raw(topic, huge)

    def rejected(reason: str) -> bool:
        return f'andon_hub_messages_rejected_total{{reason="{reason}"}} 1' in plant.metrics()

    for reason in ("malformed", "unknown_station", "too_large"):
        wait_until(functools.partial(rejected, reason), what=f"{reason} counted")
    log = plant.hub.log()
    assert "malformed: payload: Invalid JSON" in log
    assert "unknown_station: plant1/assembly/line1/st99 is not configured" in log
    assert f"too_large: {len(huge)} bytes, limit 65536" in log
    assert plant.calls() == []

    plant.press(1)
    (call,) = wait_until(plant.calls, what="a call after the bad payloads")
    assert call["station"] == "st20"


def test_a_duplicate_event_id_is_applied_once(plant: Plant) -> None:
    event = _call_event("edge-x", 7, "st20", "help")
    topic = plant.topics.event("plant1", "assembly", "line1", "st20")
    for _ in range(3):
        plant.publish_raw(topic, event.model_dump_json().encode())
    wait_until(lambda: 'outcome="duplicate"} 2' in plant.metrics(), what="duplicates counted")
    (call,) = plant.calls()
    assert call["presses"] == 1


def test_edge_killed_with_sigkill_shows_offline(plant: Plant) -> None:
    wait_until(lambda: _edge_status(plant) == "online", what="edge online")
    plant.edge.stop(signal.SIGKILL)
    # The broker notices the dead connection after 1.5 keepalives (3 s here).
    wait_until(lambda: _edge_status(plant) == "offline", timeout=20, what="edge offline")


def test_an_event_the_store_could_not_commit_is_redelivered_not_lost(plant: Plant) -> None:
    wait_until(lambda: _edge_status(plant) == "online", what="edge online")
    engine = sqlalchemy.create_engine(plant.database_url)
    with engine.connect() as blocker:
        # Another writer holds the database (SQLite) or the table (PostgreSQL).
        if engine.dialect.name == "sqlite":
            blocker.exec_driver_sql("BEGIN EXCLUSIVE")
        else:
            blocker.exec_driver_sql("LOCK TABLE processed_events IN ACCESS EXCLUSIVE MODE")
        plant.press(0)
        time.sleep(1.5)  # the event has arrived; the store waits up to 5 s on the lock
        # ... and meanwhile the API answers: the wait is off the event loop.
        assert plant.api.get("/healthz", timeout=1).status_code == 200
        wait_until(lambda: "store failed" in plant.hub.log(), what="the store error")
        blocker.rollback()
    engine.dispose()
    (call,) = wait_until(plant.calls, timeout=30, what="the redelivered event")
    assert (call["station"], call["presses"]) == ("st10", 1)
    assert "left unacknowledged for redelivery" in plant.hub.log()


def test_presses_while_the_broker_is_down_wait_in_the_outbox(plant: Plant) -> None:
    wait_until(lambda: _edge_status(plant) == "online", what="edge online")
    plant.broker.stop()
    plant.press(0)
    plant.press(1)
    time.sleep(0.5)
    plant.broker.start()  # same port, same persistence directory
    calls = wait_until(lambda: plant.calls_once_there_are(2), timeout=30, what="both calls")
    assert sorted(c["station"] for c in calls) == ["st10", "st20"]
    assert "events wait in the outbox" in plant.edge.log()


def test_a_plc_that_vanishes_and_returns_is_polled_again(plant: Plant) -> None:
    wait_until(lambda: _edge_status(plant) == "online", what="edge online")
    port = plant.plc.port
    plant.plc.stop()
    wait_until(lambda: "device plc1 is down" in plant.edge.log(), what="the device down")
    plant.plc = SimulatedPlc(port=port)
    plant.plc.start()
    try:
        wait_until(lambda: "device plc1 is up again" in plant.edge.log(), what="device up")
        plant.press(1)
        (call,) = wait_until(plant.calls, what="a call after the PLC came back")
        assert call["station"] == "st20"
    finally:
        plant.plc.stop()


def test_a_burst_is_committed_in_batches_once_each_and_the_api_keeps_answering(
    plant: Plant,
) -> None:
    topic = plant.topics.event("plant1", "assembly", "line1", "st20")
    events = [
        _call_event("edge-burst", seq, "st20", "help").model_dump_json().encode()
        for seq in range(1, 3001)
    ]
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="burst")
    client.max_inflight_messages_set(1000)
    client.connect(plant.broker.host, plant.broker.port)
    client.loop_start()
    infos = [client.publish(topic, body, qos=1) for body in [*events, *events[:300]]]
    answered = 0
    while not all(info.is_published() for info in infos):
        assert plant.api.get("/api/calls", params={"limit": "10"}).status_code == 200
        answered += 1
    client.loop_stop()
    client.disconnect()
    (call,) = wait_until(
        lambda: [c for c in plant.calls() if c["presses"] == 3000], timeout=60, what="3000"
    )
    assert call["station"] == "st20"
    # The duplicates follow the 3000 presses, and a batch is counted after its commit.
    duplicates = 'andon_hub_events_ingested_total{outcome="duplicate"} 300.0'

    def counted() -> str:
        metrics = plant.metrics()
        return metrics if duplicates in metrics else ""

    metrics = wait_until(counted, what="300 duplicates counted")
    sizes = {
        line.split('le="')[1].split('"')[0]: float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("andon_hub_ingest_batch_size_bucket")
    }
    # Some transaction carried more than 10 messages: the commit was shared.
    assert sizes["10.0"] < sizes["+Inf"]
    assert answered > 0


def test_sighup_reloads_the_hub_file_and_a_bad_file_keeps_the_running_one(
    plant: Plant, tmp_path: Path
) -> None:
    config = tmp_path / "hub.yaml"
    settings = yaml.safe_load(config.read_text())
    config.write_text(config.read_text().replace("call_types:", "call_typos:"))
    assert plant.hub.process is not None
    plant.hub.process.send_signal(signal.SIGHUP)
    wait_until(lambda: "reload refused" in plant.hub.log(), what="the refusal logged")
    assert "call_typos: unknown key" in plant.hub.log()
    assert "andon_hub_config_last_reload_ok 0.0" in plant.metrics()
    settings["areas"][0]["lines"][0]["stations"].append({"id": "st30"})
    write_yaml(config, settings)
    plant.hub.process.send_signal(signal.SIGHUP)
    wait_until(lambda: "andon_hub_config_last_reload_ok 1.0" in plant.metrics(), what="reload")
    event = _call_event("edge-new", 1, "st30", "material")
    plant.publish_raw(
        plant.topics.event("plant1", "assembly", "line1", "st30"), event.model_dump_json().encode()
    )
    (call,) = wait_until(plant.calls, what="a call at the station the reload added")
    assert call["station"] == "st30"
    entries = plant.api.get("/api/audit").json()["entries"]
    assert [(e["action"], e["actor"]) for e in entries if e["action"].startswith("config")] == [
        ("config.reloaded", "SIGHUP"),
        ("config.reload_failed", "SIGHUP"),
    ]


def test_a_killed_ingest_worker_loses_nothing_and_a_new_one_takes_over(plant: Plant) -> None:
    wait_until(lambda: _edge_status(plant) == "online", what="edge online")
    assert plant.hub.process is not None
    workers = [
        pid
        for pid in _children(plant.hub.process.pid)
        if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
        and "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
        and not _niced(pid)  # the measurement process runs niced; ingest does not
    ]
    assert len(workers) == 1, workers
    os.kill(workers[0], signal.SIGKILL)
    plant.press(0)
    (call,) = wait_until(plant.calls, timeout=30, what="the press, through a new worker")
    assert (call["station"], call["presses"]) == ("st10", 1)
    assert plant.api.get("/healthz").status_code == 200


def _niced(pid: int) -> bool:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16]) > 0  # field 19 of stat, the nice value


def _children(pid: int) -> list[int]:
    """Child processes of ``pid``, whichever of its threads started them."""
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]
