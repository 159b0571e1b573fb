"""An edge agent polling a Logix controller (cpppo's EtherNet/IP simulator, a process on
loopback): a press and its release, a measurement, the controller vanishing and
returning as a subscriber on a real Mosquitto hears them; the lights written to the
controller's tags, and again after it returns; ``--test``'s lines. One simulator serves
the module."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contract.config.models import BrokerConfig
from contract.wire import LightCommand, Topics, utc_now
from drivers import LogixConfig
from drivers.logix import LogixDriver
from edge.agent import EdgeAgent
from edge.config import ButtonConfig, EdgeConfig, LightConfig, MeasurementConfig, OutboxConfig
from edge.outbox import Outbox
from edge.recorder import Recorder
from edge.station_lights import StationLights
from edge.tag_polling import tag_polling
from testbed.broker import MosquittoBroker
from testbed.logix_plc import SimulatedLogixPlc
from tests.helpers.heard import WAIT_S, Heard, call_types, forces, listen, statuses
from tests.helpers.lights import light_amber_with_buzzer
from tests.helpers.plant import ANDON, write_yaml

TAGS = {
    "St10_Maint": "BOOL",
    "Flags": "DINT",
    "Force": "REAL",
    "Count": "INT",
    "Serial": "STRING",
    "Red": "BOOL",
    "Amber": "BOOL",
    "Horn": "DINT",
    "Stop": "SINT",
}


@pytest.fixture(scope="module")
def logix() -> Iterator[SimulatedLogixPlc]:
    with SimulatedLogixPlc(TAGS) as server:
        yield server


def _device(logix: SimulatedLogixPlc) -> LogixConfig:
    return LogixConfig.model_validate(logix.device(id="plc7", timeout_s=1))


def _config(
    tmp_path: Path, broker: MosquittoBroker, logix: SimulatedLogixPlc, prefix: str
) -> EdgeConfig:
    return EdgeConfig(
        edge_id="edge-1", site="p", area="a", line="l",
        broker=BrokerConfig(host=broker.host, port=broker.port, topic_prefix=prefix),
        outbox=OutboxConfig(path=tmp_path / "outbox.sqlite3"),
        poll_interval_s=0.05, debounce_s=0.0,
        devices=[_device(logix)],
        buttons=[
            ButtonConfig(device="plc7", address="St10_Maint", station="st10",
                         call_type="maintenance"),
            ButtonConfig(device="plc7", address="Flags.1", station="st10", call_type="quality"),
        ],
        measurements=[
            MeasurementConfig(name="force", device="plc7", address="Force", station="st10",
                              unit="kN", scale=2.0),
        ],
    )  # fmt: skip


async def _until_amber(logix: SimulatedLogixPlc) -> None:
    async with asyncio.timeout(WAIT_S):
        while not await asyncio.to_thread(logix.get, "Amber"):  # noqa: ASYNC110  # a PLC tag
            await asyncio.sleep(0.05)


@pytest.mark.asyncio
async def test_a_press_a_measurement_and_an_outage_reach_the_broker(
    tmp_path: Path, broker: MosquittoBroker, logix: SimulatedLogixPlc, topic_prefix: str
) -> None:
    logix.set("Force", 10.0)
    logix.set("St10_Maint", False)
    logix.set("Flags", 0)
    agent = EdgeAgent(_config(tmp_path, broker, logix, topic_prefix))
    heard = Heard()
    listener = asyncio.create_task(listen(broker, Topics(topic_prefix), heard))
    task = asyncio.create_task(agent.run())
    try:
        await heard.until(lambda: 20.0 in forces(heard), "the first force, scaled")
        await asyncio.to_thread(logix.set, "St10_Maint", True)
        await heard.until(lambda: len(heard.kinds("call")) == 1, "the press's call")
        await asyncio.to_thread(logix.set, "St10_Maint", False)
        await asyncio.to_thread(logix.set, "Force", 12.5)
        await heard.until(lambda: 25.0 in forces(heard), "the moved force")
        # Held when the controller vanishes; it returns with its tags at zero: released,
        # so nothing new is invented, and a press after the return is a call of its own.
        await asyncio.to_thread(logix.set, "St10_Maint", True)
        await heard.until(lambda: len(heard.kinds("call")) == 2, "the second press")
        await asyncio.to_thread(logix.stop)
        await heard.until(lambda: statuses(heard) == ["offline"], "the controller offline")
        await asyncio.to_thread(logix.start)
        await heard.until(lambda: statuses(heard) == ["offline", "online"], "online again")
        await asyncio.to_thread(logix.set, "Flags", 0b10)  # quality, pressed after the return
        await heard.until(lambda: call_types(heard)[-1:] == ["quality"], "the last press")
    finally:
        agent.stop()
        await asyncio.wait_for(task, timeout=10)
        listener.cancel()
    assert call_types(heard) == ["maintenance", "maintenance", "quality"]


@pytest.mark.asyncio
async def test_a_light_command_is_written_to_the_controller_and_reads_back(
    logix: SimulatedLogixPlc,
) -> None:
    for tag in ("Red", "Amber"):
        logix.set(tag, False)
    logix.set("Horn", 0)
    outputs = {"red": "Red", "amber": "Amber", "buzzer": "Horn", "line_stop": "Stop"}
    device = _device(logix)
    async with LogixDriver(device) as driver:
        lights, faults = await light_amber_with_buzzer(device, outputs, driver)
    values = [logix.get(tag) for tag in ("Red", "Amber", "Horn", "Stop")]
    assert values == [False, True, 1, 0]
    assert faults == []
    assert lights.mismatches == 0


@pytest.mark.asyncio
async def test_a_controller_that_returns_gets_its_lights_written_again(
    tmp_path: Path, logix: SimulatedLogixPlc
) -> None:
    config = EdgeConfig(
        edge_id="e", site="s", area="a", line="l", poll_interval_s=0.05,
        devices=[_device(logix)],
        buttons=[ButtonConfig(device="plc7", address="Count", station="st10", call_type="help")],
        lights=[LightConfig(station="st10", device="plc7", outputs={"amber": "Amber"})],
    )  # fmt: skip
    logix.set("Amber", False)
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    recorder = Recorder(config, outbox, Topics())
    lights = StationLights(config, recorder.fault)
    recorder.on_device_back = lights.device_back
    command = LightCommand(
        colour="amber", flashing=False, buzzer=False, state="raised", ts=utc_now()
    )
    try:
        async with tag_polling(config, recorder) as drivers, lights.running(drivers):
            lights.hub_command("st10", command)
            await _until_amber(logix)
            await asyncio.to_thread(logix.stop)
            await asyncio.to_thread(logix.start)  # back with its outputs off
            await _until_amber(logix)
    finally:
        outbox.close()


def test_test_mode_prints_each_value_with_its_address_as_written(
    tmp_path: Path, logix: SimulatedLogixPlc
) -> None:
    logix.set("St10_Maint", True)
    logix.set("Force", 74.5)
    logix.set("Count", -7)
    logix.set("Flags", 0b100)
    measurements: list[dict[str, Any]] = [
        {"name": "force", "device": "plc7", "address": "Force", "station": "st10", "unit": "kN"},
        {"name": "temp", "device": "plc7", "address": "Count", "type": "int16", "station": "st10"},
        {"name": "missing", "device": "plc7", "address": "Nope", "station": "st10"},
    ]
    path = write_yaml(
        tmp_path / "edge.yaml",
        {
            "edge_id": "edge-1", "site": "p", "area": "a", "line": "l",
            "outbox": {"path": str(tmp_path / "outbox.sqlite3")},
            "devices": [logix.device(id="plc7", timeout_s=2)],
            "buttons": [
                {"device": "plc7", "address": "St10_Maint", "station": "st10", "call_type": "help"},
                {"device": "plc7", "address": "Flags.2", "station": "st20", "call_type": "help"},
            ],
            "measurements": measurements,
        },
    )  # fmt: skip
    result = subprocess.run(
        [*ANDON, "edge", "--config", str(path), "--test"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    where = {(line.get("name") or line["button"]): line for line in lines}
    assert where["st10/help"]["pressed"] is True
    assert where["st20/help"]["pressed"] is True
    assert where["st20/help"]["address"] == "Flags.2"
    assert [where[n]["raw"] for n in ("force", "temp")] == [74.5, -7]
    assert {(line["table"], line["bit"]) for line in lines} == {(None, None)}
    assert all("address" in line for line in lines)
    assert "missing" not in where
    assert "Nope" in result.stderr
