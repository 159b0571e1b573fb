"""The demo plant: a broker, a simulated PLC, the hub, one edge agent and a scripted operator.

Everything runs on loopback and stops on Ctrl-C, the broker and the PLC included.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from andon.broker import MosquittoBroker
from andon.plc_sim import SimulatedPlc
from contract.config.models import BrokerConfig
from contract.wire import utc_now
from edge.agent import EdgeAgent
from edge.config import EdgeConfig, load_edge_config
from hub.access import Role
from hub.app import stop_task
from hub.config import HubConfig, load_hub_config
from hub.database import database_url, open_engine, upgrade
from hub.server import hub_server
from hub.store import Store
from hub.tokens import TokenStore

log = logging.getLogger(__name__)

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "demo"
DEMO_STATE = Path("var/demo")


async def run_demo(*, api_port: int, press_every_s: float) -> None:
    hub_config = load_hub_config(DEMO_CONFIG / "hub.yaml")
    edge_config = load_edge_config(DEMO_CONFIG / "edge-line1.yaml")
    # Every run starts with an empty plant: no calls, tokens or queued messages of the last.
    shutil.rmtree(DEMO_STATE, ignore_errors=True)
    with MosquittoBroker(DEMO_STATE / "mosquitto") as broker, SimulatedPlc() as plc:
        hub_config, edge_config = _local_settings(hub_config, edge_config, broker, plc, api_port)
        tokens = await asyncio.to_thread(_demo_tokens, hub_config)
        server = hub_server(hub_config, config_path=DEMO_CONFIG / "hub.yaml")
        server.stop_on_signals()
        print(f"demo plant running: broker 127.0.0.1:{broker.port}, PLC 127.0.0.1:{plc.port}")
        print(
            f"calls: http://127.0.0.1:{api_port}/api/calls   API docs: "
            f"http://127.0.0.1:{api_port}/docs   (Ctrl-C stops everything)"
        )
        print("API tokens, one per role (send as 'Authorization: Bearer TOKEN'):")
        for role, token in tokens.items():
            print(f"  {role:<10} {token}")
        agent = EdgeAgent(edge_config)
        edge_task = asyncio.create_task(agent.run(), name="demo-edge")
        operator = asyncio.create_task(
            _operator(plc, edge_config, press_every_s), name="demo-operator"
        )
        for task in (edge_task, operator):
            task.add_done_callback(lambda done: _stop_if_failed(done, server.request_stop))
        try:
            # Ctrl-C stops the hub first; then the agent and the operator, then the PLC
            # and the broker as the with-blocks close. Each stop is bounded, so the demo
            # ends within seconds whatever state the broker or the PLC are in.
            await server.serve()
        finally:
            await stop_task(operator, operator.cancel)
            # The agent's own stop never waits on a device call; it flushes its outbox.
            await stop_task(edge_task, agent.stop)
        log.info("demo stopping: simulated PLC and broker")
    log.info("demo stopped")


def _stop_if_failed(task: asyncio.Task[None], stop: Callable[[], None]) -> None:
    """A part of the demo that dies takes the demo down with it, saying why."""
    if not task.cancelled() and task.exception() is not None:
        log.error("%s failed, stopping the demo", task.get_name(), exc_info=task.exception())
        stop()


def _demo_tokens(hub: HubConfig) -> dict[str, str]:
    """A token for each role, so a newcomer can try every action of the API."""
    engine = open_engine(database_url(hub.storage))
    upgrade(engine)
    tokens = TokenStore(Store(engine))
    made = {
        str(role): tokens.create(
            name=f"demo-{role}", role=role, lines=[], actor="demo", now=utc_now()
        )
        for role in Role
    }
    engine.dispose()
    return made


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
    wired = [(b, b.address) for b in edge.buttons if b.address is not None]
    for button, address in itertools.cycle(wired):
        await asyncio.sleep(every_s)
        log.info("operator presses %s at station %s", button.call_type, button.station)
        await asyncio.to_thread(plc.set_coil, address, True)
        await asyncio.sleep(0.5)
        with contextlib.suppress(RuntimeError):
            await asyncio.to_thread(plc.set_coil, address, False)
