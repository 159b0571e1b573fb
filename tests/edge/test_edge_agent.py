"""The edge agent in-process against a real broker and a real Modbus server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import aiomqtt
import pytest

from contract.config.models import BrokerConfig
from contract.wire import Event, Topics
from drivers import ModbusTcpConfig, Table
from drivers.modbus_plan import plan_reads
from edge.agent import EdgeAgent
from edge.config import ButtonConfig, EdgeConfig, OutboxConfig
from edge.polling import ButtonTag
from rules.signals import DebouncedButton
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc


def _button(address: int, station: str = "st10", table: Table = Table.COIL) -> ButtonConfig:
    bit = 0 if table in (Table.HOLDING_REGISTER, Table.INPUT_REGISTER) else None
    return ButtonConfig(
        device="plc1",
        table=table,
        address=address,
        bit=bit,
        station=station,
        call_type="maintenance",
    )


def test_buttons_far_apart_are_read_in_separate_requests() -> None:
    buttons = [
        (ButtonTag(_button(a, table=Table.HOLDING_REGISTER), DebouncedButton(stable_s=0)), 0.1)
        for a in (300, 0, 124, 125, 10)
    ]
    reads = plan_reads(
        buttons, max_count={"plc1": {Table.HOLDING_REGISTER: 125}}, max_gap={"plc1": 124}
    )
    assert [[b.address for b in read.tags] for read in reads] == [[0, 10, 124], [125], [300]]
    assert [(read.start, read.count) for read in reads] == [(0, 125), (125, 1), (300, 1)]


@pytest.mark.asyncio
async def test_a_wrongly_wired_button_is_reported_once_and_its_neighbours_still_work(
    tmp_path: Path,
    broker: MosquittoBroker,
    plc: SimulatedPlc,
    topic_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker_config = BrokerConfig(host=broker.host, port=broker.port, topic_prefix=topic_prefix)
    config = EdgeConfig(
        edge_id="edge-1",
        site="p",
        area="a",
        line="l",
        broker=broker_config,
        outbox=OutboxConfig(path=tmp_path / "outbox.sqlite3"),
        poll_interval_s=0.02,
        debounce_s=0.0,
        devices=[ModbusTcpConfig(kind="modbus_tcp", id="plc1", host=plc.host, port=plc.port)],
        buttons=[_button(0, "st10"), _button(1000, "st99")],  # the PLC has 256 coils
    )
    topics = Topics(topic_prefix)
    caplog.set_level(logging.INFO)
    async with aiomqtt.Client(broker.host, broker.port) as listener:
        await listener.subscribe(topics.station_event("p", "a", "l", "+", "+"), qos=1)
        agent = asyncio.create_task(EdgeAgent(config).run())
        try:
            await asyncio.sleep(0.5)
            await asyncio.to_thread(plc.set_coil, 0, True)
            async with asyncio.timeout(10):
                message = await anext(aiter(listener.messages))
            assert isinstance(message.payload, bytes)
            event = Event.model_validate_json(message.payload)
            assert (event.station, event.seq) == ("st10", 1)
        finally:
            agent.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await agent
    refusals = [
        r for r in caplog.records if "cannot read the button of station st99" in r.getMessage()
    ]
    assert len(refusals) == 1
