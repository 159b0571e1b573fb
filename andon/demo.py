"""The demo plant: a broker, the hub, two lines (an edge agent and a simulated PLC each:
line 1's speaks Modbus TCP, line 2's serves OPC UA), a notification receiver and a
scenario: an operator, responders and a drifting process.

Everything runs on loopback and stops on Ctrl-C, the broker and the PLC included.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from andon.demo_plant import (
    DemoPlc,
    NotificationReceiver,
    drift_force,
    print_machine,
    respond,
    watch_lights,
)
from andon.demo_serial import players, serial_devices
from contract.config.models import BrokerConfig
from contract.wire import MachinePayload, utc_now
from drivers import OpcUaConfig
from edge.agent import EdgeAgent
from edge.config import EdgeConfig, load_edge_config
from hub.access.permissions import Role
from hub.access.tokens import TokenStore
from hub.calls.repository import Store
from hub.config.file import HubConfig, load_hub_config
from hub.db.engine import database_url, open_engine, upgrade
from hub.process.app import stop_task
from hub.process.server import hub_server
from testbed.broker import MosquittoBroker
from testbed.opcua_plc import SimulatedOpcUaPlc
from testbed.plc_sim import SimulatedPlc
from testbed.ptys import PtyPair

log = logging.getLogger(__name__)

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "demo"
DEMO_STATE = Path("var/demo")


EDGE_FILES = ("edge-line1.yaml", "edge-line2.yaml")


async def run_demo(*, api_port: int, press_every_s: float) -> None:
    hub_config = load_hub_config(DEMO_CONFIG / "hub.yaml")
    edges = [load_edge_config(DEMO_CONFIG / name) for name in EDGE_FILES]
    # Every run starts with an empty plant: no calls, tokens or queued messages of the last.
    shutil.rmtree(DEMO_STATE, ignore_errors=True)
    with contextlib.ExitStack() as stack:
        broker = stack.enter_context(MosquittoBroker(DEMO_STATE / "mosquitto"))
        receiver = stack.enter_context(NotificationReceiver())
        # The hub file's notification URLs name the receiver through this variable.
        os.environ["DEMO_RECEIVER"] = receiver.address
        plcs = [_plc_for(edge) for edge in edges]
        for plc in plcs:
            stack.enter_context(plc)
        ptys = {
            device: stack.enter_context(PtyPair(DEMO_STATE / "serial", device))
            for edge in edges
            for device in serial_devices(edge)
        }
        hub_config = _local_hub(hub_config, broker, api_port)
        edges = [
            _local_edge(edge, broker, plc, ptys) for edge, plc in zip(edges, plcs, strict=True)
        ]
        tokens = await asyncio.to_thread(_demo_tokens, hub_config)
        server = hub_server(hub_config, config_path=DEMO_CONFIG / "hub.yaml")
        server.stop_on_signals()
        _print_welcome(broker, plcs, receiver, api_port, tokens)
        agents = [EdgeAgent(edge) for edge in edges]
        for agent, edge in zip(agents, edges, strict=True):
            agent.recorder.on_machine = _machine_printer(edge.line)
        agent_tasks = [
            asyncio.create_task(agent.run(), name=f"demo-{edge.edge_id}")
            for agent, edge in zip(agents, edges, strict=True)
        ]
        scenario = _scenario(
            plcs, edges, ptys=ptys, api_port=api_port, tokens=tokens, press_every_s=press_every_s
        )
        for task in (*agent_tasks, *scenario):
            task.add_done_callback(lambda done: _stop_if_failed(done, server.request_stop))
        try:
            # Ctrl-C stops the hub first; then the scenario and the agents, then the PLCs,
            # the receiver and the broker as the exit stack closes. Each stop is bounded,
            # so the demo ends within seconds whatever state the broker or the PLCs are in.
            await server.serve()
        finally:
            for task in scenario:
                await stop_task(task, task.cancel)
            # An agent's own stop never waits on a device call; it flushes its outbox.
            for agent, task in zip(agents, agent_tasks, strict=True):
                await stop_task(task, agent.stop)
        log.info("demo stopping: simulated PLCs, receiver and broker")
    log.info("demo stopped")


def _machine_printer(line: str) -> Callable[[str, MachinePayload], None]:
    """Prints each state change of the line's machines (not their counters' steps)."""
    last: dict[str, tuple[str, int | None]] = {}

    def changed(station: str, report: MachinePayload) -> None:
        fault = report.fault.code if report.fault is not None else None
        if last.get(station) != (report.state, fault):
            last[station] = (report.state, fault)
            print_machine(line, station, report.state, fault)

    return changed


def _plc_for(edge: EdgeConfig) -> DemoPlc:
    """The line's simulated PLC: an OPC UA server for a line that reads one, else Modbus."""
    if any(isinstance(device, OpcUaConfig) for device in edge.devices):
        return SimulatedOpcUaPlc(bits=128, words=0)
    return SimulatedPlc()


def _scenario(
    plcs: list[DemoPlc],
    edges: list[EdgeConfig],
    *,
    ptys: dict[str, PtyPair],
    api_port: int,
    tokens: dict[str, str],
    press_every_s: float,
) -> list[asyncio.Task[None]]:
    """The people and the process around the product: operators, responders, the press."""
    api_url = f"http://127.0.0.1:{api_port}"
    parts = {
        "demo-operator": _operator(plcs, edges, press_every_s),
        "demo-responders": respond(api_url, tokens["responder"]),
        "demo-lights": watch_lights(list(zip(plcs, edges, strict=True))),
        "demo-drift": drift_force(_modbus(plcs[0])),
    }
    for edge in edges:
        for number, player in enumerate(players(edge, ptys, press_every_s)):
            parts[f"demo-serial-{edge.edge_id}-{number}"] = player
    return [asyncio.create_task(part, name=name) for name, part in parts.items()]


def _print_welcome(
    broker: MosquittoBroker,
    plcs: list[DemoPlc],
    receiver: NotificationReceiver,
    api_port: int,
    tokens: dict[str, str],
) -> None:
    base = f"http://127.0.0.1:{api_port}"
    ports = ", ".join(f"127.0.0.1:{plc.port}" for plc in plcs)
    print(f"demo plant running: broker 127.0.0.1:{broker.port}, PLCs {ports}")
    for number, plc in enumerate(plcs, start=1):
        if isinstance(plc, SimulatedOpcUaPlc):
            print(f"line{number}'s PLC serves OPC UA at {plc.endpoint}")
    print(f"notifications go to the receiver on {receiver.address}; each is printed here")
    print(f"board:   {base}/board")
    print(f"inbox:   {base}/inbox")
    print(f"charts:  {base}/charts")
    print(f"reports: {base}/reports")
    print(f"calls: {base}/api/calls   API docs: {base}/docs   (Ctrl-C stops everything)")
    print("API tokens, one per role (send as 'Authorization: Bearer TOKEN'; pages: log in):")
    for role, token in tokens.items():
        print(f"  {role:<10} {token}")


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


def _local_hub(hub: HubConfig, broker: MosquittoBroker, api_port: int) -> HubConfig:
    return hub.model_copy(
        update={
            "broker": _broker_config(broker, hub.broker.topic_prefix),
            "api": hub.api.model_copy(update={"port": api_port}),
            "storage": hub.storage.model_copy(update={"path": DEMO_STATE / "hub.sqlite3"}),
        }
    )


def _local_edge(
    edge: EdgeConfig, broker: MosquittoBroker, plc: DemoPlc, ptys: dict[str, PtyPair]
) -> EdgeConfig:
    """The edge file with the demo's own broker, PLC, serial ports and outbox."""
    devices = [
        device.model_copy(update={"port": str(ptys[device.id].agent_end)})
        if device.id in ptys
        else device.model_copy(update={"endpoint": plc.endpoint})
        if isinstance(device, OpcUaConfig) and isinstance(plc, SimulatedOpcUaPlc)
        else device.model_copy(update={"host": plc.host, "port": plc.port})
        for device in edge.devices
    ]
    outbox = DEMO_STATE / f"{edge.edge_id}-outbox.sqlite3"
    return edge.model_copy(
        update={
            "broker": _broker_config(broker, edge.broker.topic_prefix),
            "devices": devices,
            "outbox": edge.outbox.model_copy(update={"path": outbox}),
        }
    )


def _broker_config(broker: MosquittoBroker, prefix: str) -> BrokerConfig:
    return BrokerConfig(host=broker.host, port=broker.port, topic_prefix=prefix)


async def _operator(plcs: list[DemoPlc], edges: list[EdgeConfig], every_s: float) -> None:
    """Press the lines' buttons in turn, as workers would: hold for half a second."""
    wired = [
        (plc, b, address)
        for plc, edge in zip(plcs, edges, strict=True)
        for b in edge.buttons
        if (address := _button_bit(plc, b.address)) is not None
    ]
    for plc, button, address in itertools.cycle(wired):
        await asyncio.sleep(every_s)
        log.info("operator presses %s at station %s", button.call_type, button.station)
        await asyncio.to_thread(plc.set_coil, address, True)
        await asyncio.sleep(0.5)
        with contextlib.suppress(RuntimeError):
            await asyncio.to_thread(plc.set_coil, address, False)


def _button_bit(plc: DemoPlc, address: int | str | None) -> int | None:
    """The coil of a Modbus PLC's button, or the bit of an OPC UA PLC's (None: a serial
    box's button)."""
    if isinstance(address, str) and isinstance(plc, SimulatedOpcUaPlc):
        return plc.bit_of(address)
    return address if isinstance(address, int) else None


def _modbus(plc: DemoPlc) -> SimulatedPlc:
    """Line 1's PLC, which holds the press's registers (config/demo/edge-line1.yaml)."""
    if not isinstance(plc, SimulatedPlc):
        raise TypeError("line 1's PLC holds the press's Modbus registers")
    return plc
