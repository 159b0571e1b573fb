"""Modbus links against real pymodbus servers: several units per link, a unit that goes
silent, busy answers, RTU over a socat pty pair, and how reads are grouped."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import aiomqtt
import pytest

from contract.backoff import Backoff
from contract.config.models import BrokerConfig
from contract.wire import DeviceStatusEvent, Topics, parse_any_event
from drivers import (
    DeviceUnavailable,
    ModbusRtuConfig,
    ModbusTcpConfig,
    ModbusTcpDriver,
    Table,
    open_devices,
)
from drivers.modbus_plan import plan_reads
from edge.agent import EdgeAgent
from edge.config import EdgeConfig, MeasurementConfig, OutboxConfig
from edge.polling import MeasurementTag
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from testbed.ptys import PtyPair


def _rate(plc: SimulatedPlc, unit: int, seconds: float) -> float:
    """Requests per second that ``unit`` received over the next ``seconds``."""
    before, started = plc.requests[unit], time.monotonic()
    time.sleep(seconds)
    return (plc.requests[unit] - before) / (time.monotonic() - started)


async def _status_events(listener: aiomqtt.Client, count: int) -> list[DeviceStatusEvent]:
    events: list[DeviceStatusEvent] = []
    async with asyncio.timeout(20):
        async for message in listener.messages:
            assert isinstance(message.payload, bytes)
            event = parse_any_event(message.payload)
            assert isinstance(event, DeviceStatusEvent)
            events.append(event)
            if len(events) == count:
                break
    return events


@pytest.mark.asyncio
async def test_one_silent_device_of_three_leaves_the_others_their_poll_rate(
    tmp_path: Path, broker: MosquittoBroker, topic_prefix: str
) -> None:
    with SimulatedPlc(units=(1, 2, 3)) as plc:
        devices = [
            ModbusTcpConfig(
                kind="modbus_tcp",
                id=f"dev{unit}",
                host=plc.host,
                port=plc.port,
                unit=unit,
                timeout_s=0.2,
                backoff_cap_s=2.0,
            )
            for unit in (1, 2, 3)
        ]
        measurements = [
            MeasurementConfig(name=f"m{unit}", device=f"dev{unit}", address=0, station="st10")
            for unit in (1, 2, 3)
        ]
        config = EdgeConfig(
            edge_id="edge-1",
            site="p",
            area="a",
            line="l",
            broker=BrokerConfig(host=broker.host, port=broker.port, topic_prefix=topic_prefix),
            outbox=OutboxConfig(path=tmp_path / "outbox.sqlite3"),
            poll_interval_s=0.05,
            devices=devices,
            measurements=measurements,
        )
        topics = Topics(topic_prefix)
        async with aiomqtt.Client(broker.host, broker.port) as listener:
            await listener.subscribe(topics.edge_event_filter("p"), qos=1)
            agent = EdgeAgent(config)
            task = asyncio.create_task(agent.run())
            try:
                await agent.polling.wait()
                await asyncio.sleep(0.3)
                before = await asyncio.to_thread(_rate, plc, 1, 2.0)
                plc.silent.add(3)
                (offline,) = await _status_events(listener, 1)
                during = await asyncio.to_thread(_rate, plc, 1, 3.0)
                dead_rate = await asyncio.to_thread(_rate, plc, 3, 3.0)
                plc.silent.discard(3)
                (online,) = await _status_events(listener, 1)
            finally:
                agent.stop()
                await asyncio.wait_for(task, timeout=10)
    assert (offline.payload.device, offline.payload.status) == ("dev3", "offline")
    assert (online.payload.device, online.payload.status) == ("dev3", "online")
    # The silent unit is only probed now and then (backed off) ...
    assert dead_rate < before / 4
    # ... so the others keep most of their rate. Polling it every cycle (a 0.2 s
    # timeout per 0.05 s cycle) would leave them about a fifth.
    assert during / before > 0.5


@pytest.mark.asyncio
async def test_rtu_units_share_a_serial_port_and_a_silent_one_does_not_stop_the_other(
    tmp_path: Path,
) -> None:
    with (
        PtyPair(tmp_path) as pair,
        SimulatedPlc(serial_port=str(pair.device_end), units=(1, 2)) as plc,
    ):
        plc.set_register(5, 77, unit=2)
        plc.set_coil(3, True, unit=1)
        configs = [
            ModbusRtuConfig(
                kind="modbus_rtu",
                id=f"u{unit}",
                port=str(pair.agent_end),
                unit=unit,
                parity="N",
                timeout_s=0.3,
            )
            for unit in (1, 2)
        ]
        async with open_devices(configs) as drivers:
            assert drivers["u1"].link is drivers["u2"].link
            assert await drivers["u2"].read(Table.HOLDING_REGISTER, 4, 3) == [0, 77, 0]
            assert await drivers["u1"].read(Table.COIL, 2, 2) == [0, 1]
            plc.silent.add(1)
            with pytest.raises(DeviceUnavailable, match="No response"):
                await drivers["u1"].read(Table.COIL, 2, 2)
            # While u1 backs off its reads fail at once, without a request on the bus.
            sent = plc.requests[1]
            with pytest.raises(DeviceUnavailable, match="waiting to reconnect"):
                await drivers["u1"].read(Table.COIL, 2, 2)
            assert plc.requests[1] == sent
            assert await drivers["u2"].read(Table.HOLDING_REGISTER, 5, 1) == [77]


@pytest.mark.asyncio
async def test_a_busy_answer_is_retried_and_a_device_busy_for_longer_is_unavailable(
    plc: SimulatedPlc,
) -> None:
    config = ModbusTcpConfig(
        kind="modbus_tcp", id="plc1", host=plc.host, port=plc.port, retries=2, timeout_s=0.2
    )
    plc.set_register(0, 5)
    quick = Backoff(initial=0.0001, cap=0.0001, rng=random.Random(0))
    async with ModbusTcpDriver(config, backoff=quick) as driver:
        plc.answer_busy(1, 2)
        assert await driver.read(Table.HOLDING_REGISTER, 0, 1) == [5]
        assert plc.requests[1] == 3
        plc.answer_busy(1, 3)
        with pytest.raises(DeviceUnavailable, match="exception 6"):
            await driver.read(Table.HOLDING_REGISTER, 0, 1)
        assert driver.up is False
        await asyncio.sleep(0.01)
        assert await driver.read(Table.HOLDING_REGISTER, 0, 1) == [5]
        assert driver.up is True


def _tag(address: int, value_type: str = "uint16") -> tuple[MeasurementTag, float]:
    config = MeasurementConfig.model_validate(
        {"name": f"m{address}", "device": "d", "address": address, "type": value_type}
        | {"station": "st10"}
    )
    return MeasurementTag(config), 0.1


def test_reads_are_grouped_within_the_device_maximum_and_the_hole_budget() -> None:
    tags = [_tag(0), _tag(1, "float32"), _tag(5), _tag(20), _tag(28, "uint64"), _tag(40)]
    limits = {"d": dict.fromkeys(Table, 30)}
    reads = plan_reads(tags, max_count=limits, max_gap={"d": 8})
    # 0..5 with a hole of two; 20..40 with holes of 7 and 8 (a 4-register value at 28).
    assert [(r.start, r.count) for r in reads] == [(0, 6), (20, 21)]
    # At most 10 per request: 20..31 would be 12.
    reads = plan_reads(tags, max_count={"d": dict.fromkeys(Table, 10)}, max_gap={"d": 8})
    assert [(r.start, r.count) for r in reads] == [(0, 6), (20, 1), (28, 4), (40, 1)]
    reads = plan_reads(tags, max_count=limits, max_gap={"d": 0})
    assert [(r.start, r.count) for r in reads] == [(0, 3), (5, 1), (20, 1), (28, 4), (40, 1)]


@pytest.mark.asyncio
async def test_the_pause_between_requests_holds_for_every_unit_on_a_link(
    plc: SimulatedPlc,
) -> None:
    pause_s = 0.05
    configs = [
        ModbusTcpConfig(
            kind="modbus_tcp", id=f"d{unit}", host=plc.host, port=plc.port, unit=1,
            pause_s=pause_s,
        )
        for unit in (1, 2)
    ]  # fmt: skip
    async with open_devices(configs) as drivers:
        started = time.monotonic()
        await asyncio.gather(*(drivers[f"d{1 + i % 2}"].read(Table.COIL, 0, 1) for i in range(6)))
        elapsed = time.monotonic() - started
    # Six requests on one link, one at a time, a pause between each two: the pause is
    # a floor (a sleep never ends early), whatever the machine's speed.
    assert elapsed >= 5 * pause_s
    assert plc.requests[1] == 6
