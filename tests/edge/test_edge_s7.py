"""An edge agent polling an S7 PLC (python-snap7's server, on loopback): a press and its
release, a measurement, the PLC vanishing and returning as a subscriber on a real
Mosquitto hears them; the lights written to the PLC's memory; ``--test``'s lines."""

from __future__ import annotations

import asyncio
import json
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from contract.config.models import BrokerConfig
from contract.wire import LightCommand, Topics, utc_now
from drivers import S7Config
from drivers.s7 import S7Driver
from edge.agent import EdgeAgent
from edge.config import ButtonConfig, EdgeConfig, LightConfig, MeasurementConfig, OutboxConfig
from edge.outbox import Outbox
from edge.recorder import Recorder
from edge.station_lights import StationLights
from edge.tag_polling import tag_polling
from rules.registers import ValueType
from testbed.broker import MosquittoBroker
from testbed.s7_plc import SimulatedS7Plc
from tests.helpers.heard import WAIT_S, Heard, call_types, forces, listen, statuses
from tests.helpers.lights import light_amber_with_buzzer
from tests.helpers.plant import ANDON, write_yaml


def _device(s7: SimulatedS7Plc) -> S7Config:
    return S7Config.model_validate(s7.device(timeout_s=1))


def _config(tmp_path: Path, broker: MosquittoBroker, s7: SimulatedS7Plc, prefix: str) -> EdgeConfig:
    return EdgeConfig(
        edge_id="edge-1", site="p", area="a", line="l",
        broker=BrokerConfig(host=broker.host, port=broker.port, topic_prefix=prefix),
        outbox=OutboxConfig(path=tmp_path / "outbox.sqlite3"),
        poll_interval_s=0.05, debounce_s=0.0,
        devices=[_device(s7)],
        buttons=[
            ButtonConfig(device="plc7", address="DB10.DBX0.0", station="st10",
                         call_type="maintenance"),
            ButtonConfig(device="plc7", address="I0.1", station="st10", call_type="quality"),
        ],
        measurements=[
            MeasurementConfig(name="force", device="plc7", address="DB10.DBD4",
                              type=ValueType.FLOAT32, station="st10", unit="kN", scale=2.0),
        ],
    )  # fmt: skip


def _force(s7: SimulatedS7Plc, value: float) -> None:
    struct.pack_into(">f", s7.db10, 4, value)


@pytest.mark.asyncio
async def test_a_press_a_measurement_and_an_outage_reach_the_broker(
    tmp_path: Path, broker: MosquittoBroker, s7: SimulatedS7Plc, topic_prefix: str
) -> None:
    _force(s7, 10.0)
    agent = EdgeAgent(_config(tmp_path, broker, s7, topic_prefix))
    heard = Heard()
    listener = asyncio.create_task(listen(broker, Topics(topic_prefix), heard))
    task = asyncio.create_task(agent.run())
    try:
        await asyncio.sleep(0.3)  # the listener subscribed
        await heard.until(lambda: 20.0 in forces(heard), "the first force, scaled")
        s7.db10[0] = 1  # pressed
        await heard.until(lambda: len(heard.kinds("call")) == 1, "the press's call")
        s7.db10[0] = 0  # released
        _force(s7, 12.5)
        await heard.until(lambda: 25.0 in forces(heard), "the moved force")
        # Held through an outage: the same press when the PLC returns, not a new one;
        # a press made and released while it is away is not invented.
        s7.db10[0] = 1
        await heard.until(lambda: len(heard.kinds("call")) == 2, "the second press")
        s7.stop()
        await heard.until(lambda: statuses(heard) == ["offline"], "the PLC offline")
        s7.inputs[0] = 0b10
        s7.inputs[0] = 0
        s7.start()
        await heard.until(lambda: statuses(heard) == ["offline", "online"], "online again")
        s7.inputs[0] = 0b10  # quality, pressed after the return
        await heard.until(lambda: call_types(heard)[-1:] == ["quality"], "the last press")
    finally:
        agent.stop()
        await asyncio.wait_for(task, timeout=10)
        listener.cancel()
    assert call_types(heard) == ["maintenance", "maintenance", "quality"]


@pytest.mark.asyncio
async def test_a_light_command_is_written_to_the_plc_and_reads_back(s7: SimulatedS7Plc) -> None:
    s7.outputs[0] = 0b1000_0000  # a bit the light does not own
    outputs = {"red": "Q0.0", "amber": "Q0.1", "buzzer": "Q0.2", "green": "DB5.DBW0"}
    device = _device(s7)
    async with S7Driver(device) as driver:
        lights, faults = await light_amber_with_buzzer(device, outputs, driver)
    assert s7.outputs[0] == 0b1000_0110
    assert struct.unpack_from(">H", s7.db5, 0) == (0,)
    assert faults == []
    assert lights.mismatches == 0


@pytest.mark.asyncio
async def test_a_plc_that_returns_gets_its_lights_written_again(
    tmp_path: Path, s7: SimulatedS7Plc
) -> None:
    device = _device(s7)
    config = EdgeConfig(
        edge_id="e", site="s", area="a", line="l", poll_interval_s=0.05, devices=[device],
        buttons=[ButtonConfig(device="plc7", address="M0.0", station="st10", call_type="help")],
        lights=[LightConfig(station="st10", device="plc7", outputs={"amber": "Q0.1"})],
    )  # fmt: skip
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    recorder = Recorder(config, outbox, Topics())
    lights = StationLights(config, recorder.fault)
    recorder.on_device_back = lights.device_back
    command = LightCommand(
        colour="amber", flashing=False, buzzer=False, state="raised", ts=utc_now()
    )

    async def amber() -> None:
        async with asyncio.timeout(WAIT_S):
            while s7.outputs[0] != 0b10:  # noqa: ASYNC110  # the PLC's memory: nothing to wait on
                await asyncio.sleep(0.02)

    try:
        async with (
            tag_polling(config, recorder) as drivers,
            lights.running(drivers),
        ):
            lights.hub_command("st10", command)
            await amber()
            s7.stop()
            s7.outputs[0] = 0  # restarted with its outputs off
            s7.start()
            await amber()
    finally:
        outbox.close()


def test_test_mode_prints_each_value_with_its_address_as_written(
    tmp_path: Path, s7: SimulatedS7Plc
) -> None:
    s7.db10[0] = 1
    _force(s7, 74.5)
    s7.db10[20:26] = bytes([10, 4]) + b"SN42"
    struct.pack_into(">h", s7.flags, 20, -7)
    measurements: list[dict[str, Any]] = [
        {"name": "force", "device": "plc7", "address": "DB10.DBD4", "type": "float32",
         "station": "st10", "unit": "kN"},
        {"name": "serial", "device": "plc7", "address": "DB10.DBB20", "type": "string",
         "length": 10, "station": "st10"},
        {"name": "temp", "device": "plc7", "address": "MW20", "type": "int16", "station": "st10"},
        {"name": "missing", "device": "plc7", "address": "DB99.DBW0", "station": "st10"},
    ]  # fmt: skip
    path = write_yaml(
        tmp_path / "edge.yaml",
        {
            "edge_id": "edge-1", "site": "p", "area": "a", "line": "l",
            "outbox": {"path": str(tmp_path / "outbox.sqlite3")},
            "devices": [s7.device(timeout_s=2)],
            "buttons": [{"device": "plc7", "address": "DB10.DBX0.0", "station": "st10",
                         "call_type": "help"}],
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
    assert [where[n]["raw"] for n in ("force", "serial", "temp")] == [74.5, "SN42", -7]
    assert {(line["table"], line["bit"]) for line in lines} == {(None, None)}
    assert where["serial"]["address"] == "DB10.DBB20"
    assert "missing" not in where
    assert "FAILED device plc7 address DB99.DBW0" in result.stderr
    assert result.returncode == 1
