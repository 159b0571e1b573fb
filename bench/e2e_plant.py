"""The end-to-end benchmark's plant: a simulated PLC per line, an ``andon edge`` per line,
one ``andon hub``, all on the broker and database the command started.

Line ``lineNN`` has stations ``st01`` .. ``stSS``; station i's call button is coil i - 1
of its line's PLC and its tower light seven coils from ``LIGHT_BASE + 8 (i - 1)`` (red,
amber, blue, green, flashing, buzzer, line stop). Each PLC is its own pymodbus server
(its own port and thread) in the benchmark's process, as each line of a plant has its
own PLC; the benchmark reads their coils in-process. The command hands in how to make
one (``testbed.plc_sim.SimulatedPlc``, or with ``--device opcua`` an OPC UA server,
``testbed.opcua_plc.SimulatedOpcUaPlc``, whose bit i stands for coil i).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import yaml

from bench.edge import edge_device
from contract.netutil import free_port
from contract.processes import stop_process
from contract.wire import utc_now
from hub.access.permissions import Role
from hub.access.tokens import TokenStore
from hub.calls.repository import Store
from hub.db.engine import open_engine, upgrade

ANDON = [sys.executable, "-m", "andon.cli"]
SITE, AREA, PREFIX = "e2e", "assembly", "andon"
CALL_TYPE, REASON = "maintenance", "fixed"
LIGHT_BASE = 1000
OUTPUTS = ("red", "amber", "blue", "green", "flashing", "buzzer", "line_stop")
START_TIMEOUT_S = 120.0  # ten Python processes importing at once on a shared machine


class Broker(Protocol):
    host: str
    port: int


class Plc(Protocol):
    """A running Modbus TCP server whose coils the benchmark sets and reads."""

    host: str
    port: int

    def set_coil(self, address: int, value: bool) -> None: ...

    def coil(self, address: int) -> bool: ...


PlcFactory = Callable[[int], contextlib.AbstractContextManager[Plc]]
"""A PLC with that many coils, started when its block is entered, stopped at its end."""


@dataclass(frozen=True)
class Layout:
    """How big the plant is and how fast its edges poll."""

    lines: int
    stations: int
    poll_interval_s: float
    device: str = "modbus"  # or "opcua": each line's PLC serves OPC UA

    def line_ids(self) -> list[str]:
        return [f"line{n:02d}" for n in range(1, self.lines + 1)]

    def station_ids(self) -> list[str]:
        return [f"st{n:02d}" for n in range(1, self.stations + 1)]

    def button(self, station: str) -> int:
        return self.station_ids().index(station)

    def output(self, station: str, name: str) -> int:
        return LIGHT_BASE + 8 * self.button(station) + OUTPUTS.index(name)

    def coils(self) -> int:
        return LIGHT_BASE + 8 * self.stations + 8


def edge_id(line: str) -> str:
    return f"e2e-{line}"


def hub_settings(
    layout: Layout, *, broker: Broker, database_url: str, port: int, hook: str
) -> dict[str, Any]:
    """One site, one area, a policy whose level 0 sends to ``hook`` at once."""
    stations = [{"id": s} for s in layout.station_ids()]
    lines = [{"id": line, "stations": stations} for line in layout.line_ids()]
    return {
        "site": SITE, "client_id": f"e2e-hub-{os.getpid()}",
        "broker": {"host": broker.host, "port": broker.port, "topic_prefix": PREFIX},
        "storage": {"url": database_url},
        "api": {"host": "127.0.0.1", "port": port},
        "call_types": [CALL_TYPE], "reason_codes": [REASON],
        "areas": [{"id": AREA, "lines": lines}],
        "people": [{"id": "responder", "notify": [hook]}],
        "escalation": {"policies": [{
            "id": "e2e", "ack_timeout_s": 3600,
            "levels": [{"after_s": 0, "notify": ["person:responder"]}],
        }]},
    }  # fmt: skip


def edge_settings(
    layout: Layout, line: str, *, broker: Broker, plc: Plc, outbox: Path
) -> dict[str, Any]:
    """A call button and a tower light per station of ``line``, on its own PLC (its coils,
    or an OPC UA server's bits subscribed to)."""
    device, bit, _, item = edge_device(plc, "plc")
    return {
        "edge_id": edge_id(line), "site": SITE, "area": AREA, "line": line,
        "broker": {"host": broker.host, "port": broker.port, "topic_prefix": PREFIX},
        "outbox": {"path": str(outbox)},
        "poll_interval_s": layout.poll_interval_s,
        # A press counts on the first sample that sees it: at 10 Hz two samples are
        # 100 ms apart, far longer than contact bounce (as in ``andon bench edge``).
        "debounce_s": 0.0,
        "devices": [device],
        "buttons": [
            {"device": "plc", "address": bit(layout.button(s)), "station": s}
            | {"call_type": CALL_TYPE} | item
            for s in layout.station_ids()
        ],
        "lights": [
            {"station": s, "device": "plc",
             "outputs": {name: bit(layout.output(s, name)) for name in OUTPUTS}}
            for s in layout.station_ids()
        ],
    }  # fmt: skip


class ServiceProcess:
    """``andon hub|edge --config FILE`` as a child in its own session: a Ctrl-C in the
    terminal reaches the benchmark, which stops its children itself, in order."""

    def __init__(self, command: str, config: Path) -> None:
        self.config = config
        self.args = [*ANDON, command, "--config", str(config)]
        self.log_path = config.with_suffix(".log")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.args, stdout=log, stderr=subprocess.STDOUT, cwd=self.config.parent,
                env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
            )  # fmt: skip

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def check_running(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(self.args[2:])} exited:\n{tail}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        # SIGTERM first: the edge drains its outbox, the hub finishes its batch.
        stop_process(process, timeout_s=20)


@dataclass
class Plant:
    layout: Layout
    plcs: dict[str, Plc]
    hub: ServiceProcess
    edges: dict[str, ServiceProcess]
    base_url: str
    tokens: dict[str, str] = field(default_factory=dict)

    def api(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens['responder']}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=10)

    def coil(self, line: str, station: str, output: str) -> bool:
        return self.plcs[line].coil(self.layout.output(station, output))

    def check_running(self) -> None:
        for process in (self.hub, *self.edges.values()):
            process.check_running()


def _tokens(database_url: str) -> dict[str, str]:
    """A responder's token (to resolve calls) and a viewer's (for the board)."""
    engine = open_engine(database_url)
    try:
        upgrade(engine)
        tokens = TokenStore(Store(engine))
        return {
            role: tokens.create(
                name=f"e2e-{role}", role=Role(role), lines=[], actor="bench", now=utc_now()
            )
            for role in ("responder", "viewer")
        }
    finally:
        engine.dispose()


@contextlib.contextmanager
def running_plant(
    layout: Layout, *, workdir: Path, broker: Broker, plcs: PlcFactory, database_url: str,
    hook: str,
) -> Iterator[Plant]:  # fmt: skip
    """Start the PLCs, the hub and an edge per line; stop whatever started, in reverse."""
    with contextlib.ExitStack() as stack:
        started = {line: stack.enter_context(plcs(layout.coils())) for line in layout.line_ids()}
        port = free_port()
        hub_file = workdir / "hub.yaml"
        settings = hub_settings(
            layout, broker=broker, database_url=database_url, port=port, hook=hook
        )
        hub_file.write_text(yaml.safe_dump(settings, sort_keys=False))
        hub = ServiceProcess("hub", hub_file)
        edges = {}
        for line, plc in started.items():
            path = workdir / f"edge-{line}.yaml"
            config = edge_settings(
                layout, line, broker=broker, plc=plc, outbox=workdir / f"outbox-{line}.sqlite3"
            )
            path.write_text(yaml.safe_dump(config, sort_keys=False))
            edges[line] = ServiceProcess("edge", path)
        plant = Plant(layout, started, hub, edges, f"http://127.0.0.1:{port}")
        plant.tokens = _tokens(database_url)
        stack.callback(hub.stop)
        hub.start()
        _wait(plant, lambda: _healthy(plant), "the hub to answer /healthz")
        for edge in edges.values():
            stack.callback(edge.stop)  # edges stop before the hub: their outboxes drain
            edge.start()
        _wait(plant, lambda: _online(plant) == len(edges), "every edge online")
        _wait(plant, lambda: _all_green(plant), "every tower light green")
        yield plant


def _wait(plant: Plant, ready: Any, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        plant.check_running()
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _healthy(plant: Plant) -> bool:
    try:
        return httpx.get(f"{plant.base_url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _online(plant: Plant) -> int:
    with plant.api() as api:
        edges = api.get("/api/edges").json()["edges"]
    return sum(1 for edge in edges if edge["status"] == "online")


def _all_green(plant: Plant) -> bool:
    return all(
        plant.coil(line, station, "green")
        for line in plant.layout.line_ids()
        for station in plant.layout.station_ids()
    )
