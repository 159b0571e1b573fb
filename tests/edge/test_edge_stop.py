"""Stopping never hangs: the agent stops at random moments while it polls a live PLC.

Found under load: SIGTERM at a random moment left ``andon edge`` polling for ever in some
rounds, because on Python 3.11 pymodbus's ``asyncio.wait_for`` can swallow a cancel.
These tests stop the agent many times, with busy processes competing for the CPU.
"""

from __future__ import annotations

import asyncio
import functools
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.pdu import ModbusPDU

from contract.config.models import BrokerConfig
from contract.wire import Topics
from drivers import ModbusLink, ModbusTcpConfig, ModbusTcpDriver, Table
from edge.agent import EdgeAgent
from edge.config import ButtonConfig, EdgeConfig, MeasurementConfig, OutboxConfig
from edge.outbox import Outbox
from edge.recorder import Recorder
from edge.session import build_pollers
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from tests.helpers.plant import AndonProcess, write_yaml
from tests.helpers.waiting import wait_until

ROUNDS = 20
STOPPED_WITHIN_S = 5.0  # a bound for a failing test, not a measurement: stops take ~ms


@pytest.fixture
def busy_neighbours() -> Iterator[None]:
    """Three processes that keep both cores busy, as a loaded line PC would be."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(3)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def _config(tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, prefix: str) -> EdgeConfig:
    buttons = [
        ButtonConfig(device="plc1", address=a, station="st10", call_type="maintenance")
        for a in (0, 1)
    ]
    # The PLC has 256 coils: this button is wired to an address it refuses.
    buttons.append(ButtonConfig(device="plc1", address=1000, station="st99", call_type="help"))
    return EdgeConfig(
        edge_id="edge-1",
        site="p",
        area="a",
        line="l",
        broker=BrokerConfig(host=broker.host, port=broker.port, topic_prefix=prefix),
        outbox=OutboxConfig(path=tmp_path / "outbox.sqlite3"),
        poll_interval_s=0.02,
        debounce_s=0.0,
        devices=[
            ModbusTcpConfig(
                kind="modbus_tcp", id="plc1", host=plc.host, port=plc.port, timeout_s=0.5
            )
        ],
        buttons=buttons,
        measurements=[
            MeasurementConfig(
                name="force",
                device="plc1",
                table=Table.HOLDING_REGISTER,
                address=10,
                station="st10",
            )
        ],
    )


@pytest.mark.asyncio
@pytest.mark.usefixtures("busy_neighbours")
async def test_the_agent_stops_every_time_it_is_cancelled_or_stopped_at_a_random_moment(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, topic_prefix: str
) -> None:
    config = _config(tmp_path, broker, plc, topic_prefix)
    rng = random.Random()
    for round_number in range(ROUNDS):
        agent = EdgeAgent(config)
        task = asyncio.create_task(agent.run(), name=f"agent round {round_number}")
        try:
            async with asyncio.timeout(15):
                await agent.polling.wait()
            await asyncio.sleep(rng.uniform(0.0, 0.3))
            if round_number % 2:
                agent.stop()
            else:
                task.cancel()
            done, _ = await asyncio.wait({task}, timeout=STOPPED_WITHIN_S)
            assert task in done, f"round {round_number}: the agent did not stop"
        finally:
            if not task.done():
                task.cancel()
        if not task.cancelled():
            assert task.exception() is None


@pytest.mark.asyncio
async def test_a_stop_flushes_the_outbox_first_and_keeps_what_no_hub_confirmed(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, topic_prefix: str
) -> None:
    config = _config(tmp_path, broker, plc, topic_prefix)
    agent = EdgeAgent(config)
    topics = Topics(topic_prefix)
    async with aiomqtt.Client(broker.host, broker.port) as listener:
        await listener.subscribe(topics.station_event("p", "a", "l", "+", "+"), qos=1)
        task = asyncio.create_task(agent.run())
        try:
            async with asyncio.timeout(15):
                await agent.polling.wait()
            await asyncio.to_thread(plc.set_coil, 0, True)
            await asyncio.to_thread(
                wait_until, lambda: agent.recorder.presses, what="the press in the outbox"
            )
            agent.stop()
            await asyncio.wait_for(task, timeout=STOPPED_WITHIN_S)
        finally:
            task.cancel()
        async with asyncio.timeout(10):
            message = await anext(aiter(listener.messages))
    assert b'"kind":"call"' in bytes(message.payload)
    outbox = Outbox(config.outbox.path)
    try:
        # Sent before the stop, but no hub confirmed it: it waits for the next start. (A
        # measurement message may have taken a sequence number before it: droppable.)
        kept = [entry for entry in outbox.pending() if not entry.droppable]
        assert len(kept) == 1
        assert '"kind":"call"' in kept[0].body
    finally:
        outbox.close()


def _logged(process: AndonProcess, text: str) -> bool:
    return text in process.log()


@pytest.mark.usefixtures("busy_neighbours")
def test_andon_edge_exits_on_sigterm_at_a_random_moment(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, topic_prefix: str
) -> None:
    config = _config(tmp_path, broker, plc, topic_prefix)
    path = write_yaml(tmp_path / "edge.yaml", config.model_dump(mode="json", exclude_none=True))
    rng = random.Random()
    for round_number in range(4):
        edge = AndonProcess("edge", path, tmp_path / f"edge-{round_number}.log")
        edge.start()
        try:
            wait_until(
                functools.partial(_logged, edge, "connected to broker"), what="the agent connected"
            )
            assert edge.process is not None
            time.sleep(rng.uniform(0.0, 0.5))
            edge.process.send_signal(signal.SIGTERM)
            code = edge.process.wait(timeout=STOPPED_WITHIN_S)
            assert code == 0, edge.log()
        finally:
            edge.stop()


@pytest.mark.asyncio
async def test_a_cancel_that_pymodbus_swallows_still_stops_the_poller(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, topic_prefix: str
) -> None:
    """The cancel lands exactly as a response arrives: Python 3.11's ``wait_for`` inside
    pymodbus returns the response instead of raising, and the loop must notice."""
    config = _config(tmp_path, broker, plc, topic_prefix)
    device = config.devices[0]
    assert isinstance(device, ModbusTcpConfig)
    poll_task: asyncio.Task[None] | None = None
    cancels = 0

    def cancel_as_the_response_arrives(sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        nonlocal cancels
        if not sending and poll_task is not None and cancels < 1:
            cancels += 1
            poll_task.cancel()
        return pdu

    link = ModbusLink(
        name="plc1",
        make_client=lambda trace_connect: AsyncModbusTcpClient(
            plc.host,
            port=plc.port,
            timeout=1,
            retries=0,
            reconnect_delay=0,
            trace_pdu=cancel_as_the_response_arrives,
            trace_connect=trace_connect,
        ),
        pause_s=0,
        remind_cap_s=30,
    )
    outbox = Outbox(tmp_path / "swallow.sqlite3")
    try:
        recorder = Recorder(config, outbox, Topics(topic_prefix))
        recorder.configure(config)
        (poller,) = build_pollers(config, {"plc1": ModbusTcpDriver(device, link)}, recorder)
        poll_task = asyncio.create_task(poller.run())
        done, _ = await asyncio.wait({poll_task}, timeout=STOPPED_WITHIN_S)
        assert poll_task in done, "the poller went on polling after its cancel was swallowed"
        assert poll_task.cancelled()
        assert cancels == 1
    finally:
        if poll_task is not None:
            poll_task.cancel()
        link.close()
        outbox.close()
