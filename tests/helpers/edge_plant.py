"""A plant for the edge's delivery and light tests: real Mosquitto, a pymodbus PLC, and
``andon hub`` and ``andon edge`` as child processes, with tower lights on the PLC.

Station ``stN`` has its call button on coil N (N = 0..19); stations st0 and st1 have a
tower light: coils 100.. (red, amber, blue, green, flashing, buzzer, line_stop) for st0,
110.. for st1.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from contract.netutil import free_port
from contract.wire import Topics
from hub.escalation.system_calls import SYSTEM_AREA
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from tests.helpers.plant import AndonProcess, create_token, wait_hub_healthy, write_yaml
from tests.helpers.waiting import wait_until

STATIONS = 20
OUTPUTS = ["red", "amber", "blue", "green", "flashing", "buzzer", "line_stop"]
LIGHT_BASE = {"st0": 100, "st1": 110}
KEEPALIVE_S = 2


@dataclass
class EdgePlant:
    tmp_path: Path
    broker: MosquittoBroker
    plc: SimulatedPlc
    hub: AndonProcess
    edge: AndonProcess
    api: httpx.Client
    topics: Topics
    outbox_path: Path

    def press(self, station: int, *, hold_s: float = 0.3, until_seen: bool = False) -> None:
        """A worker presses and releases the call button of station ``station``;
        ``until_seen``: holds it until the edge has logged the press (a test of delivery,
        on a machine so loaded that a poll cycle can come later than ``hold_s``)."""
        self.plc.set_coil(station, True)
        if until_seen:
            wait_until(
                lambda: f"press at station st{station} " in self.edge.log(),
                what=f"the edge to see st{station}'s press",
            )
        time.sleep(hold_s)
        self.plc.set_coil(station, False)
        time.sleep(0.15)

    def calls(self) -> list[dict[str, Any]]:
        """The stations' calls: an edge that went offline (the broker stopped, say) raises
        one of the hub's own, in the system area, which is left out."""
        response = self.api.get("/api/calls", params={"limit": "500"})
        response.raise_for_status()
        calls: list[dict[str, Any]] = response.json()["calls"]
        return [call for call in calls if call["area"] != SYSTEM_AREA]

    def calls_when(self, ready: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
        """All calls once ``ready(calls)`` holds, [] until then (for ``wait_until``)."""
        calls = self.calls()
        return calls if ready(calls) else []

    def edge_status(self) -> str | None:
        edges = self.api.get("/api/edges").json()["edges"]
        return str(edges[0]["status"]) if edges else None

    def light(self, station: str) -> dict[str, bool]:
        """The light outputs of ``station`` as the PLC holds them."""
        base = LIGHT_BASE[station]
        return {name: self.plc.coil(base + i) for i, name in enumerate(OUTPUTS)}

    def lit(self, station: str, colour: str, **flags: bool) -> bool:
        light = self.light(station)
        colours = {c: light[c] for c in ("red", "amber", "blue", "green")}
        return colours == {c: c == colour for c in colours} and all(
            light[name] == value for name, value in flags.items()
        )

    def outbox_events(self) -> list[int]:
        """Sequence numbers of the events still in the edge's outbox (read beside the
        running edge). Not its measurement messages: the newest one the broker has stays
        there until the next poll cycle's write."""
        db = sqlite3.connect(f"file:{self.outbox_path}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT seq FROM pending WHERE droppable = 0 ORDER BY seq")
            return [int(seq) for (seq,) in rows]
        finally:
            db.close()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{time.time_ns()}")
        client.connect(self.broker.host, self.broker.port)
        client.loop_start()
        client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(timeout=5)
        client.loop_stop()
        client.disconnect()


def edge_settings(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, prefix: str
) -> dict[str, Any]:
    lights = [
        {
            "station": station,
            "device": "plc1",
            "table": "coil",
            "outputs": {name: base + i for i, name in enumerate(OUTPUTS)},
        }
        for station, base in LIGHT_BASE.items()
    ]
    return {
        "edge_id": "edge-line1",
        "site": "plant1",
        "area": "assembly",
        "line": "line1",
        "broker": {"host": broker.host, "port": broker.port, "topic_prefix": prefix,
                   "keepalive_s": KEEPALIVE_S},
        "outbox": {"path": str(tmp_path / "outbox.sqlite3")},
        "poll_interval_s": 0.05,
        "debounce_s": 0.05,
        "devices": [{"kind": "modbus_tcp", "id": "plc1", "host": plc.host, "port": plc.port}],
        "buttons": [
            {"device": "plc1", "address": n, "station": f"st{n}", "call_type": "maintenance"}
            for n in range(STATIONS)
        ],
        "measurements": [
            {"name": f"m{n}", "device": "plc1", "address": n, "station": f"st{n}"}
            for n in range(STATIONS)
        ],
        "lights": lights,
    }  # fmt: skip


def hub_settings(
    broker: MosquittoBroker, prefix: str, database_url: str, api_port: int
) -> dict[str, Any]:
    return {
        "site": "plant1",
        "broker": {"host": broker.host, "port": broker.port, "topic_prefix": prefix,
                   "keepalive_s": KEEPALIVE_S},
        "storage": {"url": database_url},
        "api": {"host": "127.0.0.1", "port": api_port},
        "call_types": ["maintenance", "quality", {"id": "line-down", "line_down": True}],
        "reason_codes": ["adjusted"],
        "areas": [{"id": "assembly", "lines": [
            {"id": "line1", "stations": [{"id": f"st{n}"} for n in range(STATIONS)]},
        ]}],
    }  # fmt: skip


def run_plant(
    tmp_path: Path,
    broker: MosquittoBroker,
    plc: SimulatedPlc,
    prefix: str,
    database_url: str,
    **hub_extra: Any,
) -> Iterator[EdgePlant]:
    """The plant, hub and edge started and online; both stopped at the end.

    ``hub_extra`` adds sections to the hub's file (``escalation``, say)."""
    api_port = free_port()
    hub_config = write_yaml(
        tmp_path / "hub.yaml", {**hub_settings(broker, prefix, database_url, api_port), **hub_extra}
    )
    edge_config = write_yaml(tmp_path / "edge.yaml", edge_settings(tmp_path, broker, plc, prefix))
    hub = AndonProcess("hub", hub_config, tmp_path / "hub.log")
    edge = AndonProcess("edge", edge_config, tmp_path / "edge.log")
    token = create_token(hub_config, "plant-admin", "admin")
    try:
        hub.start()
        with httpx.Client(
            base_url=f"http://127.0.0.1:{api_port}",
            timeout=5,
            headers={"Authorization": f"Bearer {token}"},
        ) as api:
            wait_hub_healthy(api)
            edge.start()
            plant = EdgePlant(
                tmp_path, broker, plc, hub, edge, api, Topics(prefix),
                tmp_path / "outbox.sqlite3",
            )  # fmt: skip
            wait_until(lambda: plant.edge_status() == "online", what="edge online")
            yield plant
    finally:
        edge.stop()
        hub.stop()
