"""Arrival button, long press and chatter through the edge agent: a real PLC, a real
Mosquitto, and the events as a subscriber on the broker receives them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from contract.config.models import BrokerConfig
from contract.wire import Topics
from drivers import ModbusTcpConfig
from edge.agent import EdgeAgent
from edge.config import ButtonConfig, ChatterConfig, EdgeConfig, LongPressConfig, OutboxConfig
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc

pytestmark = pytest.mark.asyncio

CALL, ARRIVAL, LONG = 0, 1, 2  # coils


def _config(tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, prefix: str) -> EdgeConfig:
    return EdgeConfig(
        edge_id="edge-1", site="p", area="a", line="l",
        broker=BrokerConfig(host=broker.host, port=broker.port, topic_prefix=prefix),
        outbox=OutboxConfig(path=tmp_path / "outbox.sqlite3"),
        poll_interval_s=0.02, debounce_s=0.0,
        devices=[ModbusTcpConfig(kind="modbus_tcp", id="plc1", host=plc.host, port=plc.port)],
        buttons=[
            ButtonConfig(device="plc1", address=CALL, station="st10", call_type="maintenance"),
            ButtonConfig(device="plc1", address=ARRIVAL, station="st10", sends="arrival"),
            ButtonConfig(device="plc1", address=LONG, station="st20", call_type="help",
                         long_press=LongPressConfig(hold_s=0.6, call_type="line-down")),
        ],
        chatter=ChatterConfig(max_presses=3, window_s=60),
    )  # fmt: skip


async def _press(plc: SimulatedPlc, address: int, hold_s: float = 0.1) -> None:
    await asyncio.to_thread(plc.set_coil, address, True)
    await asyncio.sleep(hold_s)
    await asyncio.to_thread(plc.set_coil, address, False)
    await asyncio.sleep(0.1)


async def _events(
    tmp_path: Path,
    broker: MosquittoBroker,
    plc: SimulatedPlc,
    prefix: str,
    presses: list[tuple[int, float]],
) -> list[dict[str, Any]]:
    """What the station topics carried while the agent saw ``presses`` (coil, hold)."""
    agent = EdgeAgent(_config(tmp_path, broker, plc, prefix))
    topics = Topics(prefix)
    received: list[dict[str, Any]] = []
    async with aiomqtt.Client(broker.host, broker.port) as listener:
        await listener.subscribe(topics.station_event("p", "a", "l", "+", "+"), qos=1)
        task = asyncio.create_task(agent.run())
        try:
            async with asyncio.timeout(15):
                await agent.polling.wait()
            for address, hold_s in presses:
                await _press(plc, address, hold_s)
            # Everything the agent stored, as the broker delivers it.
            messages = aiter(listener.messages)
            while len(received) < agent.outbox.last_seq():
                async with asyncio.timeout(10):
                    message = await anext(messages)
                received.append(json.loads(bytes(message.payload)))
        finally:
            agent.stop()
            await asyncio.wait_for(task, timeout=5)
    return received


async def test_the_arrival_button_sends_an_arrival_event_for_its_station(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, topic_prefix: str
) -> None:
    events = await _events(tmp_path, broker, plc, topic_prefix, [(CALL, 0.1), (ARRIVAL, 0.1)])
    assert [(e["kind"], e["station"], e["payload"]) for e in events] == [
        ("call", "st10", {"call_type": "maintenance"}),
        ("arrival", "st10", {}),
    ]


async def test_a_long_press_raises_the_long_press_call_type_and_a_short_one_its_own(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, topic_prefix: str
) -> None:
    events = await _events(tmp_path, broker, plc, topic_prefix, [(LONG, 1.0), (LONG, 0.1)])
    assert [(e["kind"], e["station"], e["payload"]["call_type"]) for e in events] == [
        ("call", "st20", "line-down"),
        ("call", "st20", "help"),
    ]


async def test_chatter_is_reported_once_and_the_presses_beyond_the_limit_are_not_calls(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, topic_prefix: str
) -> None:
    events = await _events(tmp_path, broker, plc, topic_prefix, [(CALL, 0.06)] * 7)
    kinds = [e["kind"] for e in events]
    assert kinds == ["call", "call", "call", "fault"]
    fault = events[3]["payload"]
    assert (fault["fault"], fault["presses"]) == ("chatter", 4)
