"""An edge agent reading an OPC UA server (asyncua's, on loopback) through subscriptions:
presses, a press shorter than the publishing interval, measurements, the lights, and the
server vanishing and returning, as a subscriber on a real Mosquitto receives them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract.config.models import BrokerConfig
from contract.wire import LightCommand, Topics, utc_now
from drivers import OpcUaConfig
from drivers.opcua import OpcUaDriver
from edge.agent import EdgeAgent
from edge.config import (
    ButtonConfig,
    EdgeConfig,
    LightConfig,
    LongPressConfig,
    MeasurementConfig,
    OutboxConfig,
)
from edge.outbox import Outbox
from edge.recorder import Recorder
from edge.station_lights import StationLights
from edge.subscribing import subscribing
from testbed.broker import MosquittoBroker
from testbed.opcua_plc import STATION_VARIABLES, SimulatedOpcUaPlc
from tests.helpers.heard import WAIT_S, Heard, call_types, forces, listen, statuses
from tests.helpers.lights import light_amber_with_buzzer

pytestmark = pytest.mark.asyncio


@pytest.fixture
def opcua() -> Iterator[SimulatedOpcUaPlc]:
    """A PLC of the station's typed variables, serving from a thread of its own (a test's
    loop stops and starts it through ``asyncio.to_thread``: the edge runs meanwhile)."""
    with SimulatedOpcUaPlc(bits=0, words=0, variables=STATION_VARIABLES) as server:
        yield server


def _config(
    tmp_path: Path, broker: MosquittoBroker, server: SimulatedOpcUaPlc, prefix: str
) -> EdgeConfig:
    device = OpcUaConfig(
        kind="opcua", id="ua1", endpoint=server.endpoint, publishing_interval_ms=400, timeout_s=2
    )
    return EdgeConfig(
        edge_id="edge-1", site="p", area="a", line="l",
        broker=BrokerConfig(host=broker.host, port=broker.port, topic_prefix=prefix),
        outbox=OutboxConfig(path=tmp_path / "outbox.sqlite3"),
        poll_interval_s=0.05,
        devices=[device],
        buttons=[
            ButtonConfig(device="ua1", address=server.node_id("St10.Maintenance"),
                         station="st10", call_type="maintenance"),
            ButtonConfig(device="ua1", address=server.node_id("St10.Arrived"),
                         station="st10", sends="arrival"),
            ButtonConfig(device="ua1", address=server.node_id("St10.Quality"),
                         station="st10", call_type="quality"),
        ],
        measurements=[
            MeasurementConfig(name="force", device="ua1", address=server.node_id("Press.Force"),
                              station="st10", unit="kN", scale=2.0, deadband=0.5),
        ],
    )  # fmt: skip


async def test_presses_measurements_and_an_outage_reach_the_broker_as_they_happen(
    tmp_path: Path, broker: MosquittoBroker, opcua: SimulatedOpcUaPlc, topic_prefix: str
) -> None:
    agent = EdgeAgent(_config(tmp_path, broker, opcua, topic_prefix))
    heard = Heard()
    listener = asyncio.create_task(listen(broker, Topics(topic_prefix), heard))
    task = asyncio.create_task(agent.run())
    try:
        await asyncio.sleep(0.3)  # the listener subscribed
        await heard.until(lambda: 20.0 in forces(heard), "the first force, scaled")
        # A press and its release between two publishes (every 400 ms): one call.
        opcua.set("St10.Maintenance", True)
        opcua.set("St10.Maintenance", False)
        await heard.until(lambda: len(heard.kinds("call")) == 1, "the short press's call")
        opcua.set("St10.Arrived", True)
        await heard.until(lambda: len(heard.kinds("arrival")) == 1, "the arrival")
        opcua.set("Press.Force", 10.1)  # within the deadband of 0.5 (scaled 20.2)
        opcua.set("Press.Force", 12.0)
        await heard.until(lambda: 24.0 in forces(heard), "the moved force")
        # Held through an outage: the same press when the server returns, not a new one.
        opcua.set("St10.Maintenance", True)
        await heard.until(lambda: len(heard.kinds("call")) == 2, "the second press")
        await asyncio.to_thread(opcua.stop)
        await heard.until(lambda: statuses(heard) == ["offline"], "the device offline")
        await asyncio.to_thread(opcua.start)
        await heard.until(lambda: statuses(heard) == ["offline", "online"], "online again")
        opcua.set("St10.Maintenance", False)
        opcua.set("St10.Maintenance", True)
        # Changes arrive in order: once this call is heard, every press before it was.
        opcua.set("St10.Quality", True)
        await heard.until(lambda: call_types(heard)[-1:] == ["quality"], "the last press")
    finally:
        agent.stop()
        await asyncio.wait_for(task, timeout=10)
        listener.cancel()
    print("KINDS", [m.get("kind") for m in heard.messages if m.get("kind") != "measurement"])
    assert call_types(heard) == ["maintenance"] * 3 + ["quality"]
    assert len(heard.kinds("arrival")) == 1
    assert 20.2 not in forces(heard)


async def test_a_light_command_is_written_to_the_servers_variables_and_reads_back(
    opcua: SimulatedOpcUaPlc,
) -> None:
    outputs = {
        "red": opcua.node_id("St10.Red"),
        "amber": opcua.node_id("St10.Amber"),
        "buzzer": opcua.node_id("St10.Buzzer"),
        "green": opcua.node_id("St10.Green"),  # an Int16 on this server: written 0 or 1
    }
    device = OpcUaConfig(kind="opcua", id="ua1", endpoint=opcua.endpoint)
    async with OpcUaDriver(device) as driver:
        await driver.connect()
        lights, faults = await light_amber_with_buzzer(device, outputs, driver)
    assert [opcua.get(f"St10.{name}") for name in ("Red", "Amber", "Buzzer", "Green")] == [
        False, True, True, 0,
    ]  # fmt: skip
    assert faults == []
    assert lights.mismatches == 0


async def test_a_long_press_counts_while_the_button_is_still_held(
    tmp_path: Path, opcua: SimulatedOpcUaPlc
) -> None:
    device = OpcUaConfig(kind="opcua", id="ua1", endpoint=opcua.endpoint)
    button = ButtonConfig(
        device="ua1", address=opcua.node_id("St10.Quality"), station="st10",
        call_type="quality", long_press=LongPressConfig(hold_s=0.3, call_type="line-down"),
    )  # fmt: skip
    config = EdgeConfig(
        edge_id="e", site="s", area="a", line="l", poll_interval_s=0.05,
        devices=[device], buttons=[button],
    )  # fmt: skip
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    recorder = Recorder(config, outbox, Topics())
    try:
        async with subscribing(config, recorder):
            opcua.set("St10.Quality", True)  # before or after subscribing: a press
            async with asyncio.timeout(WAIT_S):
                while recorder.presses < 1:  # noqa: ASYNC110  # a counter, no event
                    await asyncio.sleep(0.02)
            held = opcua.get("St10.Quality")
            opcua.set("St10.Quality", False)
        calls = [json.loads(e.body) for e in outbox.pending() if '"kind":"call"' in e.body]
    finally:
        outbox.close()
    assert held is True  # counted before the release
    assert [c["payload"]["call_type"] for c in calls] == ["line-down"]


async def test_a_server_that_restarted_gets_its_lights_written_again(
    tmp_path: Path, opcua: SimulatedOpcUaPlc
) -> None:
    device = OpcUaConfig(kind="opcua", id="ua1", endpoint=opcua.endpoint, timeout_s=2)
    outputs = {"red": opcua.node_id("St10.Red"), "amber": opcua.node_id("St10.Amber")}
    config = EdgeConfig(
        edge_id="e", site="s", area="a", line="l", devices=[device],
        lights=[LightConfig(station="st10", device="ua1", outputs=outputs)],
    )  # fmt: skip
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    recorder = Recorder(config, outbox, Topics())
    lights = StationLights(config, recorder.fault)
    recorder.on_device_back = lights.device_back
    command = LightCommand(
        colour="amber", flashing=False, buzzer=False, state="raised", ts=utc_now()
    )

    async def amber_until(expected: bool) -> None:
        async with asyncio.timeout(WAIT_S):
            while opcua.get("St10.Amber") is not expected:  # noqa: ASYNC110  # a PLC's
                await asyncio.sleep(0.05)  # variable: nothing to wait on but reading it

    try:
        async with (
            subscribing(config, recorder) as drivers,
            lights.running(drivers),
        ):
            lights.hub_command("st10", command)
            await amber_until(True)
            await asyncio.to_thread(opcua.stop)
            opcua.forget()  # it restarts cold: its outputs off again
            await asyncio.to_thread(opcua.start)
            assert opcua.get("St10.Amber") is False
            await amber_until(True)
    finally:
        outbox.close()
    assert lights.mismatches == 0
