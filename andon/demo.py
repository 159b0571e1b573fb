"""The demo plant: a broker, a simulated PLC, the hub, one edge agent and a scripted operator.

Everything runs on loopback and stops on Ctrl-C, the broker and the PLC included.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from pathlib import Path

from andon.broker import MosquittoBroker
from andon.plc_sim import SimulatedPlc
from contract.config.models import BrokerConfig
from edge.agent import EdgeAgent
from edge.config import EdgeConfig, load_edge_config
from hub.config import HubConfig, load_hub_config
from hub.server import hub_server

log = logging.getLogger(__name__)

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "demo"
DEMO_STATE = Path("var/demo")


async def run_demo(*, api_port: int, press_every_s: float) -> None:
    hub_config = load_hub_config(DEMO_CONFIG / "hub.yaml")
    edge_config = load_edge_config(DEMO_CONFIG / "edge-line1.yaml")
    with MosquittoBroker(DEMO_STATE / "mosquitto") as broker, SimulatedPlc() as plc:
        hub_config, edge_config = _local_settings(hub_config, edge_config, broker, plc, api_port)
        server = hub_server(hub_config)
        server.stop_on_signals()
        print(f"demo plant running: broker 127.0.0.1:{broker.port}, PLC 127.0.0.1:{plc.port}")
        print(
            f"calls: http://127.0.0.1:{api_port}/api/calls   API docs: "
            f"http://127.0.0.1:{api_port}/docs   (Ctrl-C stops everything)"
        )
        agent = EdgeAgent(edge_config)
        async with asyncio.TaskGroup() as tasks:
            hub_task = tasks.create_task(server.serve(), name="demo-hub")
            tasks.create_task(agent.run(), name="demo-edge")
            operator = tasks.create_task(
                _operator(plc, edge_config, press_every_s), name="demo-operator"
            )
            # Ctrl-C stops the hub first; then the agent (its stop never waits on a
            # device call) and the operator, then the PLC and the broker as the
            # with-blocks close.
            await hub_task
            agent.stop()
            operator.cancel()
        log.info("demo stopping: simulated PLC and broker")
    log.info("demo stopped")


def _local_settings(
    hub: HubConfig, edge: EdgeConfig, broker: MosquittoBroker, plc: SimulatedPlc, api_port: int
) -> tuple[HubConfig, EdgeConfig]:
    broker_config = BrokerConfig(
        host=broker.host, port=broker.port, topic_prefix=hub.broker.topic_prefix
    )
    hub = hub.model_copy(
        update={
            "broker": broker_config,
            "api": hub.api.model_copy(update={"port": api_port}),
            "storage": hub.storage.model_copy(update={"path": DEMO_STATE / "hub.sqlite3"}),
        }
    )
    devices = [
        device.model_copy(update={"host": plc.host, "port": plc.port}) for device in edge.devices
    ]
    edge = edge.model_copy(
        update={
            "broker": broker_config,
            "devices": devices,
            "outbox": edge.outbox.model_copy(update={"path": DEMO_STATE / "edge-outbox.sqlite3"}),
        }
    )
    return hub, edge


async def _operator(plc: SimulatedPlc, edge: EdgeConfig, every_s: float) -> None:
    """Press the line's buttons in turn, as a worker would: hold for half a second."""
    for button in itertools.cycle(edge.buttons):
        await asyncio.sleep(every_s)
        log.info("operator presses %s at station %s", button.call_type, button.station)
        await asyncio.to_thread(plc.set_coil, button.address, True)
        await asyncio.sleep(0.5)
        with contextlib.suppress(RuntimeError):
            await asyncio.to_thread(plc.set_coil, button.address, False)
