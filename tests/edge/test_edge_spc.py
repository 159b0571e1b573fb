"""SPC at the edge: a drifting measurement on a real PLC simulator becomes an anomaly event
on a real broker, with the test that failed and the serial of the part."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import numpy as np
import pytest

from contract.netutil import free_port
from contract.wire import AnomalyEvent, Topics, parse_any_event
from edge.agent import EdgeAgent
from edge.config import load_edge_config
from edge.spc_config import SpcConfig
from rules.registers import ValueType
from rules.spc.bindings import SpcBinding
from rules.spc.monitor import SpcMonitor
from rules.spc.rulefile import Characteristic, RuleFile
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from tests.helpers.plant import AndonProcess, create_token, wait_hub_healthy, write_yaml
from tests.helpers.waiting import wait_until


def _edge_yaml(tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, prefix: str) -> Path:
    write_yaml(
        tmp_path / "rules.yaml",
        {
            "characteristics": [
                {"id": "bore-diameter", "chart": "imr", "center": 10.0, "sigma": 0.1},
            ]
        },
    )
    return write_yaml(
        tmp_path / "edge.yaml",
        {
            "edge_id": "edge-1",
            "site": "p",
            "area": "a",
            "line": "l",
            "broker": {"host": broker.host, "port": broker.port, "topic_prefix": prefix},
            "outbox": {"path": str(tmp_path / "outbox.sqlite3")},
            "poll_interval_s": 0.02,
            "devices": [{"kind": "modbus_tcp", "id": "plc1", "host": plc.host, "port": plc.port}],
            "measurements": [
                {"name": "bore", "device": "plc1", "address": 100, "type": "float32"}
                | {"unit": "mm", "station": "st10"},
                {"name": "part_serial", "device": "plc1", "address": 104, "type": "string"}
                | {"length": 4, "station": "st10"},
                {"name": "parts_done", "device": "plc1", "address": 110, "station": "st10"},
            ],
            "stations": [{"id": "st10", "serial": "part_serial"}],
            "spc": {
                "rule_file": "rules.yaml",
                "characteristics": [
                    {"characteristic": "bore-diameter", "measurement": "bore"}
                    | {"part_done": "parts_done"}
                ],
            },
        },
    )


@pytest.mark.asyncio
async def test_a_drifting_measurement_raises_an_anomaly_with_the_test_and_the_part_serial(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, topic_prefix: str
) -> None:
    config = load_edge_config(_edge_yaml(tmp_path, broker, plc, topic_prefix))
    topics = Topics(topic_prefix)
    async with aiomqtt.Client(broker.host, broker.port) as listener:
        await listener.subscribe(topics.station_event("p", "a", "l", "+", "+"), qos=1)
        agent = EdgeAgent(config)
        task = asyncio.create_task(agent.run())
        try:
            await asyncio.to_thread(
                wait_until,
                lambda: agent.recorder.latest.get("parts_done") == 0,
                what="the part counter read before the first part",
            )
            # Parts drift upwards by a fifth of sigma each, starting just above center:
            # the sixth rise in a row is Nelson's test 3 (six points increasing).
            for part in range(1, 9):
                await asyncio.to_thread(_make_part, plc, part, 10.01 + 0.02 * (part - 1))
                await asyncio.to_thread(
                    wait_until,
                    lambda p=part: agent.recorder.latest.get("parts_done") == p,
                    what=f"part {part} seen",
                )
            async with asyncio.timeout(15):
                message = await anext(aiter(listener.messages))
        finally:
            agent.stop()
            await asyncio.wait_for(task, timeout=10)
    assert isinstance(message.payload, bytes)
    event = parse_any_event(message.payload)
    assert isinstance(event, AnomalyEvent)
    assert event.station == "st10"
    assert event.part is not None
    assert event.part.serial == "P006"
    anomaly = event.payload
    assert (anomaly.characteristic, anomaly.chart, anomaly.measurement) == (
        "bore-diameter",
        "imr",
        "bore",
    )
    assert anomaly.tests == [3]
    assert anomaly.subgroup == 6
    assert anomaly.value == pytest.approx(10.11, abs=1e-5)
    assert (anomaly.center, anomaly.lcl, anomaly.ucl) == pytest.approx((10.0, 9.7, 10.3))


def _make_part(plc: SimulatedPlc, number: int, bore: float) -> None:
    """The machine finishes a part: its bore and serial, then the part counter."""
    plc.set_value("holding_register", 100, bore, ValueType.FLOAT32)
    plc.set_value("holding_register", 104, f"P{number:03d}", ValueType.STRING, length=4)
    plc.set_register(110, number)


def test_a_p_chart_from_counters_flags_a_burst_of_defectives() -> None:
    rules = RuleFile(
        characteristics=[Characteristic(id="rejects", chart="p", rules="nelson", center=0.02)]
    )
    spc = SpcConfig(
        rule_file=Path("unused.yaml"),
        characteristics=[
            SpcBinding(characteristic="rejects", defectives="bad", inspected="made", per_parts=100)
        ],
    )
    monitor = SpcMonitor(spc, rules)
    made = bad = 0
    seen: list[Any] = monitor.cycle({"made": made}, {"bad": bad, "made": made}).anomalies
    for burst in [2, 1, 3, 2, 15]:  # defectives per 100 parts; 15 % is far above 2 %
        for _ in range(10):
            made += 10
            bad += burst if _ == 9 else 0
            latest = {"bad": bad, "made": made}
            seen += monitor.cycle({"made": made}, latest).anomalies
    assert len(seen) == 1
    (anomaly,) = seen
    assert anomaly.signal.tests == (1,)
    assert anomaly.signal.subgroup == 5
    assert anomaly.signal.value == pytest.approx(0.15)
    assert anomaly.signal.center == pytest.approx(0.02)


def test_individuals_charts_read_together_flag_what_they_flag_one_by_one() -> None:
    characteristics = [
        Characteristic(id=f"c{i}", chart="imr", center=0.0, sigma=1.0, rules=rules)
        for i, rules in enumerate(["nelson", "nelson", "western-electric", "nelson"])
    ]
    spc = SpcConfig(
        rule_file=Path("unused.yaml"),
        characteristics=[SpcBinding(characteristic=f"c{i}", measurement=f"m{i}") for i in range(4)],
    )
    rules = RuleFile(characteristics=characteristics)
    together = SpcMonitor(spc, rules, {f"m{i}": "plc1 holding_register 0.1" for i in range(4)})
    one_by_one = SpcMonitor(spc, rules)
    rng = np.random.default_rng(7)
    drift = np.linspace(0, 2.5, 300)
    found: dict[str, set[tuple[str, int, tuple[int, ...]]]] = {"together": set(), "one": set()}
    for t in range(300):
        fresh = {f"m{i}": float(rng.normal(drift[t] if i % 2 else 0.0)) for i in range(4)}
        for key, monitor in (("together", together), ("one", one_by_one)):
            found[key] |= {
                (a.binding.characteristic, a.signal.subgroup, a.signal.tests)
                for a in monitor.cycle(fresh, fresh).anomalies
            }
    assert found["together"] == found["one"]
    assert {name for name, _, _ in found["one"]} >= {"c1", "c3"}  # the drifting ones


@pytest.mark.parametrize("read_together", [True, False])
def test_a_float_register_holding_infinity_or_nan_is_not_charted_and_raises_no_anomaly(
    read_together: bool,
) -> None:
    """A bug found in review: an infinite reading fired test 1, and its anomaly went out
    with a null value, which the hub refuses, so it was lost after all."""
    rules = RuleFile(
        characteristics=[Characteristic(id="bore", chart="imr", center=10.0, sigma=0.1)]
    )
    spc = SpcConfig(
        rule_file=Path("unused.yaml"),
        characteristics=[SpcBinding(characteristic="bore", measurement="bore_mm")],
    )
    together = {"bore_mm": "plc1 holding_register 0.1"} if read_together else None
    monitor = SpcMonitor(spc, rules, together)
    for value in (10.0, math.inf, -math.inf, math.nan, 10.05):
        cycle = monitor.cycle({"bore_mm": value}, {"bore_mm": value})
        assert not cycle.anomalies, value
        assert [point[5] for point in cycle.points] == ([value] if math.isfinite(value) else [])
    # A real reading beyond the limits still fires test 1.
    assert monitor.cycle({"bore_mm": 11.0}, {"bore_mm": 11.0}).anomalies


@pytest.mark.system
def test_the_anomaly_reaches_the_hub_with_its_test_and_the_part_serial(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, topic_prefix: str
) -> None:
    api_port = free_port()
    hub_config = write_yaml(
        tmp_path / "hub.yaml",
        {
            "site": "p",
            "broker": {"host": broker.host, "port": broker.port, "topic_prefix": topic_prefix},
            "storage": {"path": str(tmp_path / "hub.sqlite3")},
            "api": {"host": "127.0.0.1", "port": api_port},
            "call_types": ["maintenance", "quality"],
            "reason_codes": ["adjusted"],
            "areas": [{"id": "a", "lines": [{"id": "l", "stations": [{"id": "st10"}]}]}],
        },
    )
    token = create_token(hub_config, "engineer", "viewer")
    hub = AndonProcess("hub", hub_config, tmp_path / "hub.log")
    edge = AndonProcess(
        "edge", _edge_yaml(tmp_path, broker, plc, topic_prefix), tmp_path / "edge.log"
    )
    headers = {"Authorization": f"Bearer {token}"}
    try:
        hub.start()
        with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", headers=headers) as api:
            wait_hub_healthy(api)
            edge.start()
            wait_until(lambda: "connected to broker" in edge.log(), what="edge up")
            time.sleep(1.0)  # the part counter read before the first part
            for part in range(1, 9):
                _make_part(plc, part, 10.01 + 0.02 * (part - 1))
                time.sleep(0.3)
            found = wait_until(
                lambda: api.get("/api/anomalies").json()["anomalies"], what="the anomaly"
            )
    finally:
        edge.stop()
        hub.stop()
    # Newest first: the first anomaly is the sixth rise in a row (later parts rise on).
    anomaly = found[-1]
    assert (anomaly["station"], anomaly["characteristic"], anomaly["tests"]) == (
        "st10", "bore-diameter", [3]
    )  # fmt: skip
    assert anomaly["part_serial"] == "P006"
    assert anomaly["ucl"] == pytest.approx(10.3)


def test_every_charted_subgroup_is_a_point_and_the_failed_ones_are_anomalies_too() -> None:
    characteristics = [
        Characteristic(id=f"c{i}", chart="imr", center=0.0, sigma=1.0) for i in range(3)
    ] + [Characteristic(id="avg", chart="xbar-r", center=0.0, sigma=1.0)]
    bindings = [SpcBinding(characteristic=f"c{i}", measurement=f"m{i}") for i in range(3)]
    bindings.append(SpcBinding(characteristic="avg", measurement="m0", subgroup_size=2))
    spc = SpcConfig(rule_file=Path("unused.yaml"), characteristics=bindings)
    rules = RuleFile(characteristics=characteristics)
    stations = {"m0": "st10", "m1": "st10", "m2": "st20"}
    together = SpcMonitor(spc, rules, {f"m{i}": "plc1" for i in range(3)}, stations=stations)
    one_by_one = SpcMonitor(spc, rules, stations=stations)
    rng = np.random.default_rng(3)
    seen: dict[str, list[Any]] = {"together": [], "one": []}
    anomalies = 0
    for t in range(200):
        fresh = {f"m{i}": float(rng.normal(0.03 * t if i == 2 else 0.0)) for i in range(3)}
        for key, monitor in (("together", together), ("one", one_by_one)):
            cycle = monitor.cycle(fresh, fresh)
            seen[key] += cycle.points
            failed = [p for p in cycle.points if p[9]]
            assert [(a.binding.characteristic, a.signal.tests) for a in cycle.anomalies] == [
                (p[1], p[9]) for p in failed
            ]
            anomalies += len(cycle.anomalies)
    assert sorted(seen["together"]) == sorted(seen["one"])
    points = seen["one"]
    assert len(points) == 3 * 200 + 100  # every reading of c0..c2, every pair for avg
    assert {(p[0], p[1]) for p in points} == {
        ("st10", "c0"), ("st10", "c1"), ("st20", "c2"), ("st10", "avg")
    }  # fmt: skip
    assert {p[4] for p in points if p[1] == "avg"} == set(range(1, 101))
    assert all((p[6], p[7], p[8]) == (0.0, -3.0, 3.0) for p in points if p[1] == "c0")
    assert anomalies > 0  # c2 drifts away
