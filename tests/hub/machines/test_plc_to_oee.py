"""A machine through the real path: a PLC whose state and counter registers move through
a script, ``andon edge`` polling it, a real Mosquitto, ``andon hub``: a pymodbus PLC with
the hub on SQLite, and python-snap7's S7 server with the hub on PostgreSQL.

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
from typing import Any, Protocol

import httpx
import pytest

from contract.netutil import free_port
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from testbed.s7_plc import BUTTON_DB, WORD_DB, SimulatedS7Plc
from tests.helpers.plant import AndonProcess, create_token, wait_hub_healthy, write_yaml
from tests.helpers.waiting import wait_until

FAULT, PARTS, REJECTS, RUNNING = 10, 11, 12, 20  # holding registers, and a coil


class Machine(Protocol):
    """What the script moves on either PLC: registers (words) and a coil (a bit)."""

    def set_registers(self, table: str, address: int, values: list[int]) -> None: ...
    def set_coil(self, address: int, value: bool) -> None: ...


def _set(plc: Machine, register: int, value: int) -> None:
    plc.set_registers("holding_register", register, [value])


def _tags(plc: SimulatedPlc | SimulatedS7Plc) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The PLC's device entry and the machine's four tags at the same registers."""
    names = {FAULT: "fault_code", PARTS: "parts_total", REJECTS: "parts_rejected"}
    tags: list[dict[str, Any]]
    running: dict[str, Any]
    if isinstance(plc, SimulatedS7Plc):
        byte, bit = divmod(RUNNING, 8)
        tags = [{"name": name, "device": "plc7", "address": f"DB{WORD_DB}.DBW{2 * register}",
                 "station": "st10"} for register, name in names.items()]  # fmt: skip
        running = {"address": f"DB{BUTTON_DB}.DBX{byte}.{bit}", "device": "plc7"}
        return plc.device(), [*tags, {"name": "running", "station": "st10", **running}]
    device: dict[str, Any] = {
        "kind": "modbus_tcp",
        "id": "plc1",
        "host": plc.host,
        "port": plc.port,
    }
    tags = [{"name": name, "device": "plc1", "address": register, "station": "st10"}
            for register, name in names.items()]  # fmt: skip
    running = {"device": "plc1", "table": "coil", "address": RUNNING, "type": "bool"}
    return device, [*tags, {"name": "running", "station": "st10", **running}]


def _edge(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc | SimulatedS7Plc, prefix: str
) -> dict[str, Any]:
    device, measurements = _tags(plc)
    return {
        "edge_id": "edge-line1", "site": "plant1", "area": "assembly", "line": "line1",
        "broker": {"host": broker.host, "port": broker.port, "topic_prefix": prefix},
        "outbox": {"path": str(tmp_path / "outbox.sqlite3")},
        "poll_interval_s": 0.05,
        "devices": [device],
        "measurements": measurements,
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
    def __init__(
        self, tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc | SimulatedS7Plc,
        prefix: str, database: str,
    ) -> None:  # fmt: skip
        self.plc = plc
        port = free_port()
        hub_config = write_yaml(tmp_path / "hub.yaml", _hub(broker, prefix, database, port))
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


@pytest.fixture(params=["modbus-sqlite", "s7-postgresql"])
def plant(
    request: pytest.FixtureRequest, tmp_path: Path, broker: MosquittoBroker, topic_prefix: str
) -> Iterator[Plant]:
    if request.param == "s7-postgresql":
        plc: SimulatedPlc | SimulatedS7Plc = request.getfixturevalue("s7")
        database: str = request.getfixturevalue("postgres_url")
    else:
        plc = request.getfixturevalue("plc")
        database = f"sqlite:///{tmp_path / 'hub.db'}"
    made = Plant(tmp_path, broker, plc, topic_prefix, database)
    try:
        made.hub.start()
        wait_hub_healthy(made.api)
        made.edge.start()
        yield made
    finally:
        made.edge.stop()
        made.hub.stop()
        made.api.close()


def test_a_machine_script_becomes_periods_a_cleared_call_and_oee(plant: Plant) -> None:
    plc = plant.plc
    _set(plc, PARTS, 100)
    plc.set_coil(RUNNING, True)
    first = wait_until(lambda: plant.in_state("running"), timeout=30, what="running")
    since = datetime.fromisoformat(first["since"])
    _set(plc, PARTS, 110)  # 10 parts
    _set(plc, REJECTS, 1)  # 1 of them rejected
    _set(plc, FAULT, 17)
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
    _set(plc, FAULT, 0)
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
    _set(plc, PARTS, 3)
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
