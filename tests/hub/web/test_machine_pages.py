"""The machines on the pages, in a real browser: /reports shows the press's OEE by shift,
its downtime by reason and its MTBF and MTTR; the board's tile shows its state and how
long. The machine reports come over Mosquitto as an edge sends them (its own times)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from paho.mqtt import client as paho
from paho.mqtt.enums import CallbackAPIVersion
from playwright.sync_api import Browser, expect

from contract.wire import (
    MachineEvent,
    MachineFault,
    MachinePayload,
    Topics,
    event_json,
)
from testbed.broker import MosquittoBroker
from tests.helpers.waiting import wait_until
from tests.helpers.web import WebPlant, new_page

pytestmark = [pytest.mark.system, pytest.mark.browser]

WORN = MachineFault(code=17, reason="tool-worn", name="Tool worn")


def _publish(
    broker: MosquittoBroker, prefix: str, steps: list[tuple[float, str, MachineFault | None, int]]
) -> None:
    """Machine reports of line1/st10, ``minutes`` ago each, from edge ``edge-press``."""
    topic = Topics(prefix).station_event("plant1", "assembly", "line1", "st10", "edge-press")
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{time.time_ns()}")
    client.connect(broker.host, broker.port)
    client.loop_start()
    now = datetime.now(UTC)
    for seq, (minutes_ago, state, fault, parts) in enumerate(steps, start=1):
        payload = MachinePayload(
            state=state, fault=fault, call_type="maintenance" if fault else None,
            parts=parts, wraps_at=65536, ideal_cycle_s=10.0,
        )  # fmt: skip
        event = MachineEvent(
            event_id=f"edge-press:{seq}", edge_id="edge-press", seq=seq,
            ts=now - timedelta(minutes=minutes_ago), site="plant1", area="assembly",
            line="line1", station="st10", kind="machine", payload=payload,
        )  # fmt: skip
        client.publish(topic, event_json(event), qos=1).wait_for_publish(timeout=5)
    client.loop_stop()
    client.disconnect()


def test_reports_and_board_show_the_machine(
    web_plant: WebPlant, browser: Browser, broker: MosquittoBroker, topic_prefix: str
) -> None:
    _publish(broker, topic_prefix, [
        (20, "running", None, 0), (15, "down", WORN, 30), (10, "running", None, 30),
        (5, "down", WORN, 60),
    ])  # fmt: skip
    with web_plant.api("viewer") as api:
        # The last report applied: the first fault ended, the second one lasts.
        wait_until(
            lambda: [p for p in api.get("/api/downtime").json()["periods"] if p["end"] is None],
            what="the press down again",
        )
    page = new_page(browser, width=1200, height=900, locale="en-US")
    page.goto(f"{web_plant.base_url}/reports?token={web_plant.tokens['viewer']}")
    page.wait_for_selector("#machines[data-loaded=true]")
    expect(page.locator("#oee tbody tr[data-station=st10]").first).to_be_visible()
    # One fault ended (5 minutes, reason tool-worn); the one still open is not counted.
    expect(page.locator("#downtime-by-reason tbody tr[data-reason=tool-worn]")).to_have_count(1)
    expect(page.locator("#mtbf-mttr tbody tr[data-station=st10]")).to_have_attribute(
        "data-faults", "1"
    )
    expect(page.locator("#downtime-pareto .bar[data-reason=tool-worn]")).to_have_count(1)

    board = new_page(browser, width=1200, height=900, locale="en-US")
    board.goto(f"{web_plant.base_url}/board?token={web_plant.tokens['viewer']}")
    machine = board.locator(".tile[data-station=st10] .tile-machine")
    expect(machine).to_have_attribute("data-machine-state", "down")
    expect(machine.locator(".machine-since")).not_to_have_text("")
    expect(board.locator(".tile[data-station=st20] .tile-machine")).to_have_count(0)
