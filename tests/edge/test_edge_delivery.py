"""Delivery that survives a broker outage, a killed edge, a killed hub and forged
statuses: real Mosquitto, a pymodbus PLC, ``andon hub`` and ``andon edge`` processes."""

from __future__ import annotations

import json
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy

from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from tests.helpers.edge_plant import KEEPALIVE_S, EdgePlant, run_plant
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.system

BROKER_DOWN_S = 30


@pytest.fixture
def plant(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, topic_prefix: str
) -> Iterator[EdgePlant]:
    yield from run_plant(tmp_path, broker, plc, topic_prefix, f"sqlite:///{tmp_path / 'hub.db'}")


def _seq(call: dict[str, object]) -> int:
    return int(str(call["first_event_id"]).rsplit(":", 1)[1])


def _stored_presses(log: str) -> dict[str, int]:
    """Station -> event seq of every press the edge logged as stored in its outbox."""
    return {
        m[1]: int(m[2]) for m in re.finditer(r"press at station (st\d+) \(\w+\): event (\d+)", log)
    }


def _move_measurements(plant: EdgePlant, stop: threading.Event) -> None:
    value = 0
    while not stop.is_set():
        value = (value + 1) % 1000
        plant.plc.set_registers("holding_register", 0, [value] * 20)
        time.sleep(0.05)


def test_broker_stopped_for_30_s_during_a_burst_every_call_arrives_once_in_order(
    plant: EdgePlant,
) -> None:
    stop = threading.Event()
    mover = threading.Thread(target=_move_measurements, args=(plant, stop), daemon=True)
    mover.start()
    try:
        for station in range(0, 6):
            plant.press(station, until_seen=True)
        plant.broker.stop()
        down_since = time.monotonic()
        for station in range(6, 14):
            plant.press(station, until_seen=True)
        time.sleep(max(0.0, BROKER_DOWN_S - (time.monotonic() - down_since)))
        plant.broker.start()
        for station in range(14, 20):
            plant.press(station, until_seen=True)
    finally:
        stop.set()
        mover.join()
    calls = wait_until(
        lambda: plant.calls_when(lambda c: len(c) >= 20), timeout=60, what="20 calls"
    )
    assert sorted(c["station"] for c in calls) == sorted(f"st{n}" for n in range(20))
    assert all(c["presses"] == 1 for c in calls), calls
    # Per-edge order: the hub opened the calls in the order the edge numbered them.
    by_id = sorted(calls, key=lambda c: c["id"])
    assert [_seq(c) for c in by_id] == sorted(_seq(c) for c in calls)
    wait_until(lambda: plant.outbox_events() == [], timeout=30, what="outbox confirmed")
    assert "events wait in the outbox" in plant.edge.log()


def test_edge_killed_with_sigkill_mid_burst_every_press_it_had_read_arrives_once(
    plant: EdgePlant,
) -> None:
    for station in range(0, 7):  # each held until read (a starved edge can miss 0.15 s)
        plant.press(station, hold_s=0.15, until_seen=True)
    plant.plc.set_coil(7, True)  # the last: killed the moment the edge has stored it
    wait_until(lambda: "press at station st7 " in plant.edge.log(), what="st7's press read")
    plant.edge.stop(signal.SIGKILL)
    plant.plc.set_coil(7, False)
    stored = _stored_presses(plant.edge.log())
    assert len(stored) == 8, stored
    plant.edge.start()
    wait_until(lambda: "(session 2)" in plant.edge.log(), what="the edge back")
    time.sleep(0.5)  # polling again
    for station in range(8, 12):
        plant.press(station, until_seen=True)
    expected = set(stored) | {f"st{n}" for n in range(8, 12)}
    calls = wait_until(
        lambda: plant.calls_when(lambda c: expected <= {x["station"] for x in c}),
        timeout=30,
        what="every press read before the kill",
    )
    assert all(c["presses"] == 1 for c in calls), calls
    assert {_seq(c) for c in calls if c["station"] in stored} == set(stored.values())


def test_hub_killed_between_the_pubacks_and_its_commit_the_event_still_arrives(
    plant: EdgePlant, tmp_path: Path
) -> None:
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    with engine.connect() as blocker:
        blocker.exec_driver_sql("BEGIN EXCLUSIVE")  # the hub's commit cannot happen
        plant.press(3, until_seen=True)  # stored in the outbox before it is logged
        time.sleep(1.0)  # the broker acknowledged the publish long ago
        assert plant.outbox_events() != [], "the outbox must wait for the hub, not the broker"
        plant.hub.stop(signal.SIGKILL)
        # The broker is replaced too: nothing it had queued for the hub survives.
        plant.broker.stop()
        shutil.rmtree(plant.broker.data_dir)
        plant.broker.start()
        blocker.rollback()
    engine.dispose()
    plant.hub.start()
    (call,) = wait_until(plant.calls, timeout=40, what="the call, sent again by the edge")
    assert (call["station"], call["presses"]) == ("st3", 1)
    wait_until(lambda: plant.outbox_events() == [], timeout=30, what="outbox confirmed")
    assert "publishing this edge's state again" in plant.edge.log()


def test_a_forged_retained_offline_does_not_show_a_live_edge_offline_a_real_disconnect_does(
    plant: EdgePlant,
) -> None:
    topic = plant.topics.edge_status("plant1", "edge-line1")
    plant.publish(topic, b"offline", retain=True)  # the plain status of old edges
    plant.publish(topic, json.dumps({"status": "offline", "session": 0}).encode(), retain=True)
    wait_until(lambda: "ignored (not newer" in plant.hub.log(), what="the forgery ignored")
    time.sleep(KEEPALIVE_S)
    assert plant.edge_status() == "online"
    assert "edge edge-line1 is offline" not in plant.hub.log()
    # The edge put its own retained status back: a hub starting now reads it as online.
    wait_until(lambda: "set offline (session 0) while connected" in plant.edge.log(), what="reply")
    plant.edge.stop(signal.SIGKILL)
    # The broker notices after 1.5 keepalives; its will carries the edge's own session.
    wait_until(lambda: plant.edge_status() == "offline", timeout=4 * KEEPALIVE_S, what="offline")
