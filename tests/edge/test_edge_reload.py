"""Reload on SIGHUP and on file change: a valid file takes over, an invalid one is refused
with every error and its line, and the old configuration keeps polling."""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from contract.wire import Event, Topics
from edge.agent import EdgeAgent
from edge.config import load_edge_config
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from tests.helpers.plant import AndonProcess, write_yaml
from tests.helpers.waiting import wait_until


def _edge(
    broker: MosquittoBroker,
    plc: SimulatedPlc,
    prefix: str,
    tmp_path: Path,
    address: int,
    station: str,
) -> dict[str, Any]:
    return {
        "edge_id": "edge-1",
        "site": "p",
        "area": "a",
        "line": "l",
        "broker": {"host": broker.host, "port": broker.port, "topic_prefix": prefix},
        "outbox": {"path": str(tmp_path / "outbox.sqlite3")},
        "poll_interval_s": 0.02,
        "debounce_s": 0.0,
        "devices": [{"kind": "modbus_tcp", "id": "plc1", "host": plc.host, "port": plc.port}],
        "buttons": [
            {"device": "plc1", "address": address, "station": station, "call_type": "help"}
        ],
    }


INVALID = """edge_id: edge-1
site: p
area: a
line: l
poll_interval_s: fast
devices:
  - {kind: modbus_tcp, id: plc1, host: 127.0.0.1, prot: 502}
"""


async def _press_and_receive(plc: SimulatedPlc, listener: aiomqtt.Client, address: int) -> Event:
    await asyncio.to_thread(plc.set_coil, address, True)
    try:
        async with asyncio.timeout(15):
            message = await anext(aiter(listener.messages))
    finally:
        await asyncio.to_thread(plc.set_coil, address, False)
    assert isinstance(message.payload, bytes)
    return Event.model_validate_json(message.payload)


@pytest.mark.asyncio
async def test_an_invalid_file_keeps_the_old_configuration_polling_and_a_valid_one_replaces_it(
    tmp_path: Path,
    broker: MosquittoBroker,
    plc: SimulatedPlc,
    topic_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    path = write_yaml(tmp_path / "edge.yaml", _edge(broker, plc, topic_prefix, tmp_path, 0, "st10"))
    agent = EdgeAgent(load_edge_config(path), config_path=path)
    topics = Topics(topic_prefix)
    async with aiomqtt.Client(broker.host, broker.port) as listener:
        await listener.subscribe(topics.station_event("p", "a", "l", "+", "+"), qos=1)
        task = asyncio.create_task(agent.run())
        try:
            await agent.polling.wait()
            path.write_text(INVALID)
            agent.reload()  # what SIGHUP does
            await asyncio.to_thread(
                wait_until,
                lambda: "reload refused" in caplog.text,
                what="the refusal logged",
            )
            assert agent.polling.is_set()
            assert (agent.reloads, agent.refused_reloads) == (0, 1)
            first = await _press_and_receive(plc, listener, 0)
            assert first.station == "st10"
            # A valid file, noticed by the file watcher alone: the button moved.
            write_yaml(path, _edge(broker, plc, topic_prefix, tmp_path, 5, "st20"))
            await asyncio.to_thread(
                wait_until, lambda: agent.reloads == 1, what="the new file in use"
            )
            await asyncio.to_thread(wait_until, agent.polling.is_set, what="polling again")
            second = await _press_and_receive(plc, listener, 5)
            assert second.station == "st20"
        finally:
            agent.stop()
            await asyncio.wait_for(task, timeout=10)
    refusals = [r.getMessage() for r in caplog.records if "reload refused" in r.getMessage()]
    assert len(refusals) == 1  # one line with every error
    assert any("edge.yaml:5: poll_interval_s:" in line for line in refusals), refusals
    assert any("edge.yaml:7: devices[0].prot: unknown key" in line for line in refusals), refusals
    assert second.seq == first.seq + 1  # one outbox and one sequence across the reload


def _logged(process: AndonProcess, text: str) -> bool:
    return text in process.log()


def test_sighup_with_an_invalid_file_is_refused_and_the_agent_keeps_running(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, topic_prefix: str
) -> None:
    path = write_yaml(tmp_path / "edge.yaml", _edge(broker, plc, topic_prefix, tmp_path, 0, "st10"))
    edge = AndonProcess("edge", path, tmp_path / "edge.log")
    edge.start()
    try:
        wait_until(functools.partial(_logged, edge, "connected to broker"), what="connected")
        path.write_text(INVALID)
        assert edge.process is not None
        edge.process.send_signal(signal.SIGHUP)
        wait_until(functools.partial(_logged, edge, "devices[0].prot"), what="the refusal")
        assert edge.process.poll() is None
        assert "edge.yaml:5: poll_interval_s" in edge.log()
    finally:
        code = edge.stop()
    assert code == 0
