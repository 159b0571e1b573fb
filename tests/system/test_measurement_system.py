"""Measurements end to end on both databases: a pymodbus PLC, ``andon edge``, Mosquitto and
``andon hub`` as processes; SPC points with the part's serial and quality counters (through
a PLC restart) arrive at the hub and are read back through its API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract.netutil import free_port
from rules.registers import ValueType
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from tests.helpers.plant import AndonProcess, create_token, wait_hub_healthy, write_yaml
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.system

DAY = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}


@dataclass
class Line:
    plc: SimulatedPlc
    api: httpx.Client
    edge: AndonProcess

    def counts(self) -> tuple[int, int]:
        """Parts inspected and defective at st10, all hours together."""
        buckets = self.api.get("/api/quality/counts", params=DAY).json()["counts"]
        st10 = [b for b in buckets if b["station"] == "st10"]
        return sum(b["inspected"] for b in st10), sum(b["defective"] for b in st10)

    def set_counters(self, made: int, bad: int) -> None:
        self.plc.set_register(110, made)
        self.plc.set_register(111, bad)


def _hub_file(tmp_path: Path, broker: MosquittoBroker, prefix: str, url: str, port: int) -> Path:
    return write_yaml(
        tmp_path / "hub.yaml",
        {
            "site": "p",
            "broker": {"host": broker.host, "port": broker.port, "topic_prefix": prefix},
            "storage": {"url": url},
            "api": {"host": "127.0.0.1", "port": port},
            "call_types": ["maintenance"],
            "reason_codes": ["adjusted"],
            "areas": [
                {"id": "a", "lines": [{"id": "l", "stations": [{"id": "st10"}, {"id": "st20"}]}]}
            ],
            "measurements": {
                "quality": [{"line": "l", "station": "st10", "inspected": "made"}
                            | {"defective": "bad"}],
            },
        },
    )  # fmt: skip


def _edge_file(tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, prefix: str) -> Path:
    write_yaml(
        tmp_path / "rules.yaml",
        {"characteristics": [{"id": "bore", "chart": "imr", "center": 10.0, "sigma": 0.1}]},
    )
    holding = {"device": "plc1", "station": "st10"}
    return write_yaml(
        tmp_path / "edge.yaml",
        {
            "edge_id": "edge-1", "site": "p", "area": "a", "line": "l",
            "broker": {"host": broker.host, "port": broker.port, "topic_prefix": prefix},
            "outbox": {"path": str(tmp_path / "outbox.sqlite3")},
            "poll_interval_s": 0.05,
            "devices": [{"kind": "modbus_tcp", "id": "plc1", "host": plc.host, "port": plc.port}],
            "measurements": [
                holding | {"name": "bore_mm", "address": 100, "type": "float32", "unit": "mm"},
                holding | {"name": "serial", "address": 104, "type": "string", "length": 4},
                holding | {"name": "made", "address": 110},
                holding | {"name": "bad", "address": 111},
                {"device": "plc1", "station": "st20", "name": "temp", "address": 120},
            ],
            "stations": [{"id": "st10", "serial": "serial"}],
            "spc": {
                "rule_file": "rules.yaml",
                "characteristics": [{"characteristic": "bore", "measurement": "bore_mm"}],
            },
        },
    )  # fmt: skip


@pytest.fixture
def line(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, topic_prefix: str,
    database_url: str,
) -> Iterator[Line]:  # fmt: skip
    port = free_port()
    hub_file = _hub_file(tmp_path, broker, topic_prefix, database_url, port)
    token = create_token(hub_file, "viewer", "viewer")
    hub = AndonProcess("hub", hub_file, tmp_path / "hub.log")
    edge = AndonProcess(
        "edge", _edge_file(tmp_path, broker, plc, topic_prefix), tmp_path / "edge.log"
    )
    plc.set_value("holding_register", 100, 10.02, ValueType.FLOAT32)
    plc.set_value("holding_register", 104, "SN01", ValueType.STRING, length=4)
    plc.set_register(110, 1000)
    plc.set_register(111, 7)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        hub.start()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as api:
            wait_hub_healthy(api)
            edge.start()
            yield Line(plc, api, edge)
    finally:
        edge.stop()
        hub.stop()


def _points(line: Line, **params: Any) -> list[dict[str, Any]]:
    points: list[dict[str, Any]] = line.api.get(
        "/api/characteristics/bore/points", params=params
    ).json()["points"]
    return points


def test_points_with_the_part_serial_and_counters_through_a_plc_restart_reach_the_hub(
    line: Line,
) -> None:
    first = wait_until(lambda: _points(line), what="SPC points at the hub")[0]
    assert (first["station"], first["chart"], first["measurement"]) == ("st10", "imr", "bore_mm")
    assert first["value"] == pytest.approx(10.02, abs=1e-5)
    assert (first["center"], first["lcl"], first["ucl"]) == pytest.approx((10.0, 9.7, 10.3))
    assert first["part_serial"] == "SN01"
    assert first["unit"] == "mm"  # the edge's unit: of bore_mm, sent with each point
    (item,) = line.api.get("/api/characteristics").json()["characteristics"]
    assert (item["characteristic"], item["line"], item["station"]) == ("bore", "l", "st10")
    assert item["unit"] == "mm"
    # A value beyond the upper limit: its point carries test 1, as its anomaly does.
    line.plc.set_value("holding_register", 100, 10.5, ValueType.FLOAT32)
    flagged = wait_until(
        lambda: [p for p in _points(line, limit=1000) if 1 in p["tests"]], what="test 1"
    )
    assert flagged[0]["value"] == pytest.approx(10.5, abs=1e-5)
    # Counters: 1000 / 7 is the base; 40 parts made, 3 bad; the PLC restarts (both 0); 5 made.
    wait_until(lambda: line.counts() == (0, 0) and _seen_counters(line), what="counter base")
    line.set_counters(1040, 10)
    wait_until(lambda: line.counts() == (40, 3), what="40 parts counted")
    line.set_counters(0, 0)
    time.sleep(0.5)  # several cycles read the restarted counters
    line.set_counters(5, 0)
    wait_until(lambda: line.counts() == (45, 3), what="5 more parts after the restart")
    time.sleep(0.5)
    assert line.counts() == (45, 3)  # unchanged while the counters stand still


def _seen_counters(line: Line) -> bool:
    """The hub has taken the counters' first readings (as its metrics show)."""
    metrics = line.api.get("/metrics").text
    return 'andon_hub_quality_counter_readings_total{how="first"} 2.0' in metrics
