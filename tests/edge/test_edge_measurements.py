"""Measurements end to end: a register map on a real pymodbus server, read by ``--test``
and by the running agent, published over a real broker."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from contract.config.models import BrokerConfig
from contract.wire import MeasurementEvent, Topics, parse_any_event
from drivers import ModbusTcpConfig, Table
from edge.agent import EdgeAgent
from edge.config import EdgeConfig, MeasurementConfig, OutboxConfig
from rules.registers import ByteOrder, ValueType
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from tests.helpers.plant import ANDON, write_yaml
from tests.helpers.register_vectors import VECTORS


def _edge_file(tmp_path: Path, plc: SimulatedPlc, measurements: list[dict[str, Any]]) -> Path:
    return write_yaml(
        tmp_path / "edge.yaml",
        {
            "edge_id": "edge-1",
            "site": "p",
            "area": "a",
            "line": "l",
            "outbox": {"path": str(tmp_path / "outbox.sqlite3")},
            "devices": [
                {
                    "kind": "modbus_tcp",
                    "id": "plc1",
                    "host": plc.host,
                    "port": plc.port,
                    "timeout_s": 0.5,
                    "max_registers": 40,  # a device that takes few registers at once
                }
            ],
            "buttons": [{"device": "plc1", "address": 7, "station": "st10", "call_type": "help"}],
            "measurements": measurements,
        },
    )


def _run_test_mode(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ANDON, "edge", "--config", str(path), "--test"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_every_table_type_and_byte_order_decodes_through_test_mode(
    tmp_path: Path, plc: SimulatedPlc
) -> None:
    measurements: list[dict[str, Any]] = []
    address = 0
    for index, (value_type, order, registers, _) in enumerate(VECTORS):
        plc.set_registers("holding_register", address, registers)
        item = {"name": f"m{index}", "device": "plc1", "address": address, "type": value_type}
        item |= {"byte_order": order, "station": "st10"}
        if value_type == "string":
            item["length"] = len(registers)
        measurements.append(item)
        address += len(registers) + 1  # a one-register hole between values
    plc.set_value("input_register", 20, 123456789, ValueType.UINT32, ByteOrder.CDAB)
    plc.set_bits("coil", 3, [True])
    plc.set_bits("discrete_input", 5, [True])
    plc.set_coil(7, True)
    measurements += [
        {"name": "parts", "device": "plc1", "table": "input_register", "address": 20}
        | {"type": "uint32", "byte_order": "CDAB", "station": "st20"},
        {"name": "door", "device": "plc1", "table": "coil", "address": 3, "type": "bool"}
        | {"station": "st20"},
        {"name": "guard", "device": "plc1", "table": "discrete_input", "address": 5}
        | {"type": "bool", "station": "st20"},
        {"name": "temp", "device": "plc1", "address": 0, "type": "bool", "station": "st20"},
    ]
    plc.set_register(200, 1234)
    measurements.append(
        {"name": "bore", "device": "plc1", "address": 200, "type": "uint16", "scale": 0.01}
        | {"offset": 60.0, "unit": "mm", "station": "st20"}
    )
    result = _run_test_mode(_edge_file(tmp_path, plc, measurements))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    by_name = {line["name"]: line for line in lines if "name" in line}
    for index, (value_type, order, _, expected) in enumerate(VECTORS):
        line = by_name[f"m{index}"]
        assert set(line) == {
            "name", "value", "unit", "station", "device", "table", "address", "bit", "raw",
        }  # fmt: skip
        if value_type == "float32":
            assert line["raw"] == pytest.approx(expected, rel=1e-7), (value_type, order)
        else:
            assert line["raw"] == expected, (value_type, order)
    assert by_name["parts"]["value"] == 123456789
    assert (by_name["door"]["value"], by_name["guard"]["value"]) == (True, True)
    assert by_name["bore"] == {
        "name": "bore",
        "value": pytest.approx(72.34),
        "unit": "mm",
        "station": "st20",
        "device": "plc1",
        "table": "holding_register",
        "address": 200,
        "bit": None,
        "raw": 1234,
    }
    (button,) = [line for line in lines if "button" in line]
    assert (button["station"], button["pressed"]) == ("st10", True)


def test_a_failed_read_exits_1_naming_the_device_and_address(
    tmp_path: Path, plc: SimulatedPlc
) -> None:
    measurements = [
        {"name": "good", "device": "plc1", "address": 10, "station": "st10"},
        {"name": "beyond", "device": "plc1", "address": 1000, "station": "st10"},
    ]
    plc.set_register(10, 42)
    result = _run_test_mode(_edge_file(tmp_path, plc, measurements))
    assert result.returncode == 1
    assert "FAILED device plc1 holding_register address 1000" in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["value"] for line in lines if line.get("name") == "good"] == [42]


@pytest.mark.asyncio
async def test_measurements_are_published_once_per_cycle_with_a_deadband(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, topic_prefix: str
) -> None:
    def measurement(name: str, address: int, **extra: Any) -> MeasurementConfig:
        return MeasurementConfig(
            name=name,
            device="plc1",
            table=Table.HOLDING_REGISTER,
            address=address,
            station="st20" if name == "level" else "st10",
            **extra,
        )

    config = EdgeConfig(
        edge_id="edge-1",
        site="p",
        area="a",
        line="l",
        broker=BrokerConfig(host=broker.host, port=broker.port, topic_prefix=topic_prefix),
        outbox=OutboxConfig(path=tmp_path / "outbox.sqlite3"),
        poll_interval_s=0.05,
        devices=[ModbusTcpConfig(kind="modbus_tcp", id="plc1", host=plc.host, port=plc.port)],
        measurements=[measurement("speed", 1), measurement("level", 2, deadband=5.0)],
    )
    topics = Topics(topic_prefix)
    plc.set_register(1, 10)
    plc.set_register(2, 100)
    async with aiomqtt.Client(broker.host, broker.port) as listener:
        await listener.subscribe(topics.measurement_filter("p"), qos=1)
        agent = EdgeAgent(config)
        task = asyncio.create_task(agent.run())
        try:
            events = await _measurement_events(listener, 4)
            await asyncio.to_thread(plc.set_register, 2, 103)  # within the deadband
            events += await _measurement_events(listener, 4)
            await asyncio.to_thread(plc.set_register, 2, 110)
            events += await _measurement_events(listener, 8)
        finally:
            agent.stop()
            await asyncio.wait_for(task, timeout=10)
    assert all(len(e.payload.readings) in (1, 2) for e in events)
    # Both stations' readings of a cycle share one message, each reading with its station.
    assert {(r.station, r.name) for e in events for r in e.payload.readings} == {
        ("st10", "speed"), ("st20", "level")
    }  # fmt: skip
    levels = [r.value for e in events for r in e.payload.readings if r.name == "level"]
    speeds = [r.value for e in events for r in e.payload.readings if r.name == "speed"]
    assert levels == [100, 110]
    assert set(speeds) == {10}
    assert len(speeds) == len(events)  # one message per cycle, every cycle has a speed


async def _measurement_events(listener: aiomqtt.Client, count: int) -> list[MeasurementEvent]:
    events: list[MeasurementEvent] = []
    async with asyncio.timeout(15):
        async for message in listener.messages:
            assert isinstance(message.payload, bytes)
            event = parse_any_event(message.payload)
            assert isinstance(event, MeasurementEvent)
            events.append(event)
            if len(events) == count:
                return events
    return events
