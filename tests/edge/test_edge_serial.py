"""Serial button stations and scanners in the agent, over real pty pairs from socat, beside
a real PLC simulator and a real broker: garbage on the line is counted and skipped, a
press raises a call, and the scanner's serial travels with the station's events."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from contract.wire import AnomalyEvent, Event, Topics, parse_any_event
from drivers.serial_frames import ButtonFrame, HeartbeatFrame, encode
from edge.agent import EdgeAgent
from edge.config import load_edge_config
from edge.listening import SerialListener
from rules.registers import ValueType
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from tests.helpers.plant import write_yaml
from tests.helpers.ptys import PtyPair
from tests.helpers.waiting import wait_until


@pytest.fixture
def ptys(tmp_path: Path) -> Iterator[tuple[PtyPair, PtyPair]]:
    station, scanner = PtyPair(tmp_path / "station"), PtyPair(tmp_path / "scanner")
    try:
        for pair in (station, scanner):
            pair.device_path.parent.mkdir()
            pair.start()
        yield station, scanner
    finally:
        station.stop()
        scanner.stop()


def _edge_yaml(
    tmp_path: Path,
    broker: MosquittoBroker,
    plc: SimulatedPlc,
    prefix: str,
    ptys: tuple[PtyPair, PtyPair],
) -> Path:
    station, scanner = ptys
    write_yaml(
        tmp_path / "rules.yaml",
        {"characteristics": [{"id": "force", "chart": "imr", "center": 2.0, "sigma": 0.1}]},
    )
    return write_yaml(
        tmp_path / "edge.yaml",
        {
            "edge_id": "edge-1",
            "site": "p",
            "area": "a",
            "line": "l",
            "broker": {"host": broker.host, "port": broker.port, "topic_prefix": prefix},
            "outbox": {"path": str(tmp_path / "outbox.sqlite3")},
            "poll_interval_s": 0.02,
            "devices": [
                {"kind": "modbus_tcp", "id": "plc1", "host": plc.host, "port": plc.port},
                {"kind": "serial_button_station", "id": "box-st10"}
                | {"port": str(station.device_path)},
                {"kind": "serial_scanner", "id": "scan-st10", "station": "st10"}
                | {"port": str(scanner.device_path)},
            ],
            "buttons": [
                {"device": "box-st10", "button": "maint", "station": "st10"}
                | {"call_type": "maintenance"},
            ],
            "measurements": [
                {"name": "press_force", "device": "plc1", "address": 0, "type": "float32"}
                | {"station": "st10"}
            ],
            "spc": {
                "rule_file": "rules.yaml",
                "characteristics": [{"characteristic": "force", "measurement": "press_force"}],
            },
        },
    )


async def _next_event(listener: aiomqtt.Client) -> Event | AnomalyEvent:
    async with asyncio.timeout(15):
        message = await anext(aiter(listener.messages))
    assert isinstance(message.payload, bytes)
    event = parse_any_event(message.payload)
    assert isinstance(event, Event | AnomalyEvent)
    return event


@pytest.mark.asyncio
async def test_serial_presses_and_scans_reach_the_broker_around_garbage(
    tmp_path: Path,
    broker: MosquittoBroker,
    plc: SimulatedPlc,
    topic_prefix: str,
    ptys: tuple[PtyPair, PtyPair],
) -> None:
    station, scanner = ptys
    plc.set_value("holding_register", 0, 2.0, ValueType.FLOAT32)
    config = load_edge_config(_edge_yaml(tmp_path, broker, plc, topic_prefix, ptys))
    agent = EdgeAgent(config)
    topics = Topics(topic_prefix)
    async with aiomqtt.Client(broker.host, broker.port) as listener:
        await listener.subscribe(topics.station_event("p", "a", "l", "+", "+"), qos=1)
        task = asyncio.create_task(agent.run())
        try:
            await agent.polling.wait()
            scanner.write(b"P-4711\r\n")
            await asyncio.to_thread(
                wait_until,
                lambda: (part := agent.recorder.parts.get("st10")) and part.serial == "P-4711",
                what="the scanned serial",
            )
            station.write(encode(HeartbeatFrame("st10", 0)))
            station.write(b"\x00\xff line noise \r\n$BTN,st10,maint,P,1*00\r\n$BTN,st1")
            station.write(b"\r\n" + encode(ButtonFrame("st10", "maint", True, 2)))
            call = await _next_event(listener)
            station.write(encode(ButtonFrame("st10", "maint", False, 3)) + b"#garbage#\r\n")
            # The force jumps beyond its 3-sigma limit: test 1, with the scanned part.
            await asyncio.to_thread(plc.set_value, "holding_register", 0, 2.5, ValueType.FLOAT32)
            anomaly = await _next_event(listener)
            serial_listener = _station_driver_stats(agent)
        finally:
            agent.stop()
            await asyncio.wait_for(task, timeout=10)
    assert isinstance(call, Event)
    assert (call.station, call.payload.call_type) == ("st10", "maintenance")
    assert call.part is not None
    assert call.part.serial == "P-4711"
    assert isinstance(anomaly, AnomalyEvent)
    assert anomaly.payload.tests == [1]
    assert anomaly.part is not None
    assert anomaly.part.serial == "P-4711"
    assert serial_listener["bad_checksum"] == 1
    assert serial_listener["garbage"] >= 2
    assert agent.recorder.presses == 1


def _station_driver_stats(agent: EdgeAgent) -> dict[str, int]:
    listener = agent.listener
    assert isinstance(listener, SerialListener)
    (station,) = [d for d in listener.drivers if d.config.id == "box-st10"]
    return dict(station.stats.rejected)
