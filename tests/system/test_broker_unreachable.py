"""A hub or an edge that cannot reach its broker says which broker, host and port, in its
log: a plant's IT reads "no connection to broker mqtt.plant-north.lan:1883: Name or
service not known", not the resolver's words alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contract.netutil import free_port
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from tests.helpers.edge_plant import edge_settings, hub_settings
from tests.helpers.plant import AndonProcess, write_yaml
from tests.helpers.waiting import wait_until

# .invalid never resolves (RFC 6761).
NOWHERE = "mqtt.plant.invalid"


def _unreachable(settings: dict[str, Any]) -> dict[str, Any]:
    return {**settings, "broker": {**settings["broker"], "host": NOWHERE, "port": 1883}}


def test_hub_and_edge_name_the_broker_they_cannot_reach(tmp_path: Path) -> None:
    # A broker and a PLC that are never started only lend their settings' shape.
    broker = MosquittoBroker(tmp_path / "unused")
    hub_file = _unreachable(
        hub_settings(broker, "andon", f"sqlite:///{tmp_path / 'hub.sqlite3'}", free_port())
    )
    edge_file = _unreachable(edge_settings(tmp_path, broker, SimulatedPlc(), "andon"))
    hub = AndonProcess("hub", write_yaml(tmp_path / "hub.yaml", hub_file), tmp_path / "hub.log")
    edge = AndonProcess(
        "edge", write_yaml(tmp_path / "edge.yaml", edge_file), tmp_path / "edge.log"
    )
    hub.start()
    edge.start()
    try:
        said = f"no connection to broker {NOWHERE}:1883: "
        wait_until(lambda: said in hub.log(), timeout=60, what=f"the hub's log naming {NOWHERE}")
        wait_until(lambda: said in edge.log(), timeout=60, what=f"the edge's log naming {NOWHERE}")
    finally:
        edge.stop()
        hub.stop()
