"""A machine through the real path: a pymodbus PLC whose state and counter registers move
through a script, ``andon edge`` polling it, a real Mosquitto, ``andon hub`` on SQLite.

The fault's call is raised and resolved by the machine; an edge restart while the
machine stays down and a hub restart while its counter is reset leave one period each,
none open after its end was seen; the OEE answer matches arithmetic on the periods the
edge timed and the parts the script made. (The same arithmetic with chosen times, on
both databases and across a shift boundary: test_downtime_and_oee.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract.netutil import free_port
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from tests.helpers.plant import AndonProcess, create_token, wait_hub_healthy, write_yaml
from tests.helpers.waiting import wait_until

FAULT, PARTS, REJECTS, RUNNING = 10, 11, 12, 20  # holding registers, and a coil


def _edge(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, prefix: str
) -> dict[str, Any]:
    return {
        "edge_id": "edge-line1", "site": "plant1", "area": "assembly", "line": "line1",
        "broker": {"host": broker.host, "port": broker.port, "topic_prefix": prefix},
        "outbox": {"path": str(tmp_path / "outbox.sqlite3")},
        "poll_interval_s": 0.05,
        "devices": [{"kind": "modbus_tcp", "id": "plc1", "host": plc.host, "port": plc.port}],
        "measurements": [
            {"name": "fault_code", "device": "plc1", "address": FAULT, "station": "st10"},
            {"name": "parts_total", "device": "plc1", "address": PARTS, "station": "st10"},
            {"name": "parts_rejected", "device": "plc1", "address": REJECTS, "station": "st10"},
            {"name": "running", "device": "plc1", "table": "coil", "address": RUNNING,
             "type": "bool", "station": "st10"},
        ],
        "machines": [{
            "station": "st10",
            "rules": [{"tag": "fault_code", "not": 0, "state": "down"},
                      {"tag": "running", "is": True, "state": "running"}],
            "otherwise": "idle", "parts": "parts_total", "rejects": "parts_rejected",
            "ideal_cycle_s": 2.0,
            "faults": {"tag": "fault_code", "call_type": "maintenance", "resolve": "cleared",
                       "codes": {17: {"id": "spindle-overload", "name": "Spindle overload"}}},
        }],
    }  # fmt: skip


def _hub(broker: MosquittoBroker, prefix: str, database: str, port: int) -> dict[str, Any]:
    return {
        "site": "plant1",
        "broker": {"host": broker.host, "port": broker.port, "topic_prefix": prefix},
        "storage": {"url": database}, "api": {"host": "127.0.0.1", "port": port},
        "call_types": ["maintenance"], "reason_codes": ["spindle-overload", "fault-unknown"],
        "micro_stop_s": 0.2,
        "areas": [{"id": "assembly", "lines": [{"id": "line1", "stations": [{"id": "st10"}]}]}],
    }  # fmt: skip


class Plant:
    def __init__(self, tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, prefix: str):
        port = free_port()
        hub_config = write_yaml(
            tmp_path / "hub.yaml", _hub(broker, prefix, f"sqlite:///{tmp_path / 'hub.db'}", port)
        )
        edge_config = write_yaml(tmp_path / "edge.yaml", _edge(tmp_path, broker, plc, prefix))
        self.hub = AndonProcess("hub", hub_config, tmp_path / "hub.log")
        self.edge = AndonProcess("edge", edge_config, tmp_path / "edge.log")
        token = create_token(hub_config, "test", "admin")
        self.api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5,
                                headers={"Authorization": f"Bearer {token}"})  # fmt: skip

    def machine(self) -> dict[str, Any] | None:
        states = self.api.get("/api/machines").json()
        return states[0] if states else None

    def in_state(self, state: str) -> dict[str, Any]:
        """The machine once it is in ``state``; {} until then."""
        machine = self.machine()
        return machine if machine is not None and machine["state"] == state else {}

    def periods(self, since: datetime) -> list[dict[str, Any]]:
        """Downtime from ``since`` on (before it: idle while the script had not begun)."""
        response = self.api.get("/api/downtime", params={"since": since.isoformat()})
        response.raise_for_status()
        periods: list[dict[str, Any]] = response.json()["periods"]
        return periods

    def calls(self) -> list[dict[str, Any]]:
        """The station's calls (not the hub's own, about its edge going offline)."""
        calls: list[dict[str, Any]] = self.api.get("/api/calls").json()["calls"]
        return [call for call in calls if call["station"] == "st10"]


@pytest.fixture
def plant(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, topic_prefix: str
) -> Iterator[Plant]:
    made = Plant(tmp_path, broker, plc, topic_prefix)
    try:
        made.hub.start()
        wait_hub_healthy(made.api)
        made.edge.start()
        yield made
    finally:
        made.edge.stop()
        made.hub.stop()
        made.api.close()


def test_a_machine_script_becomes_periods_a_cleared_call_and_oee(
    plant: Plant, plc: SimulatedPlc
) -> None:
    plc.set_register(PARTS, 100)
    plc.set_coil(RUNNING, True)
    first = wait_until(lambda: plant.in_state("running"), timeout=30, what="running")
    since = datetime.fromisoformat(first["since"])
    plc.set_register(PARTS, 110)  # 10 parts
    plc.set_register(REJECTS, 1)  # 1 of them rejected
    plc.set_register(FAULT, 17)
    down = wait_until(lambda: plant.in_state("down"), timeout=30, what="down")
    assert down["fault_code"] == 17
    (call,) = wait_until(plant.calls, what="the fault's call")
    assert (call["call_type"], call["state"], call["reason_code"]) == (
        "maintenance", "raised", "spindle-overload",
    )  # fmt: skip

    # The edge restarts while the machine stays down: the same state, the same period.
    plant.edge.stop()
    plant.edge.start()
    wait_until(lambda: plant.api.get("/api/edges").json()["edges"][0]["status"] == "online",
               timeout=30, what="edge back")  # fmt: skip
    plc.set_register(FAULT, 0)
    wait_until(lambda: plant.in_state("running"), timeout=30, what="running again")
    periods = plant.periods(since)
    assert len(periods) == 1, (since, periods)
    (period,) = periods
    assert (period["state"], period["fault_code"], period["call_id"]) == ("down", 17, call["id"])
    assert datetime.fromisoformat(period["start"]) == datetime.fromisoformat(down["since"])
    (resolved,) = wait_until(
        lambda: [c for c in plant.calls() if c["state"] == "resolved"], what="call resolved"
    )
    assert resolved["note"] == "cleared by the machine"
    assert datetime.fromisoformat(resolved["resolved_at"]) == datetime.fromisoformat(period["end"])

    # The hub restarts while the PLC's counter is reset and counts 3 parts: the edge
    # keeps them in its outbox until the hub is back.
    plant.hub.stop()
    plc.set_register(PARTS, 3)
    plant.hub.start()
    wait_hub_healthy(plant.api)
    machine = wait_until(lambda: plant.in_state("running"), timeout=30, what="hub back")
    until = datetime.fromisoformat(machine["since"])  # the running period's start
    params = {"since": since.isoformat(), "until": until.isoformat()}

    def report() -> dict[str, Any] | None:
        rows = plant.api.get(
            "/api/reports/oee", params={**params, "until": "2100-01-01T00:00:00Z"}
        ).json()["rows"]
        return rows[0] if rows and rows[0]["total"] == 10 + 3 else None

    wait_until(report, timeout=30, what="the parts after the reset counted")
    (row,) = plant.api.get("/api/reports/oee", params=params).json()["rows"]
    planned = (until - since).total_seconds()
    assert row["planned_s"] == pytest.approx(planned, rel=1e-9)
    assert row["down_s"] == pytest.approx(period["seconds"], rel=1e-9)
    assert row["run_s"] == pytest.approx(planned - period["seconds"], rel=1e-9)
    # The 10 parts were counted while running, before the fault: inside [since, until).
    assert (row["total"], row["good"], row["micro_stops"]) == (10, 9, 0)
    assert row["performance"] == pytest.approx(2.0 * 10 / (planned - period["seconds"]))
    assert row["quality"] == pytest.approx(9 / 10)
    (still,) = plant.periods(since)
    assert still["id"] == period["id"]
