"""``andon bench edge --json`` prints the pinned keys (a small workload: a smoke test)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.helpers.bench import bench_edge


def test_bench_edge_prints_the_pinned_keys_and_loses_nothing() -> None:
    report = bench_edge(
        "--buttons", "8", "--measurements", "8", "--presses", "4", "--warmup", "1",
        "--delivery-presses", "3",
    )  # fmt: skip
    pinned = {"poll_interval_ms", "tags", "events", "lost", "press_to_publish_ms", "rss_mb"}
    assert pinned | {"cpu_percent"} <= set(report)
    assert set(report["press_to_publish_ms"]) == {"p50", "p99"}
    assert (report["tags"], report["events"], report["lost"]) == (16, 4, 0)
    assert report["press_to_publish_ms"]["p50"] <= report["press_to_publish_ms"]["p99"]
    assert report["rss_mb"] > 0
    for key in ("press_to_hub_ack_ms", "press_to_light_ms"):
        assert set(report[key]) == {"p50", "p99"}
        assert 0 < report[key]["p50"] <= report[key]["p99"]
    assert report["replay_events"] == 10_000
    assert report["replay_events_per_s"] > 0


def test_bench_edge_on_an_opc_ua_plc_prints_the_same_keys_and_loses_nothing() -> None:
    report = bench_edge(
        "--device", "opcua", "--buttons", "8", "--measurements", "8", "--presses", "4",
        "--warmup", "1", "--delivery-presses", "3",
    )  # fmt: skip
    modbus_keys = {"poll_interval_ms", "tags", "events", "lost", "press_to_publish_ms"}
    assert modbus_keys | {"rss_mb", "cpu_percent", "measurement_messages", "anomalies"} <= set(
        report
    )
    assert report["device"] == "opcua"
    assert (report["tags"], report["events"], report["lost"], report["other_events"]) == (
        16, 4, 0, 0,
    )  # fmt: skip
    assert report["measurement_messages"] > 0  # the words' changes, sampled every cycle
    assert 0 < report["press_to_publish_ms"]["p50"] <= report["press_to_publish_ms"]["p99"]
    for key in ("press_to_hub_ack_ms", "press_to_light_ms"):  # the lights written over OPC UA
        assert 0 < report[key]["p50"] <= report[key]["p99"]
    assert report["replay_events"] == 10_000


def test_bench_edge_without_measurements_runs_the_buttons_alone() -> None:
    # It once wrote an SPC section with no characteristic, which the agent refused, and
    # then timed 100 presses nobody read (5 s each) before saying they were all lost.
    report = bench_edge(
        "--no-delivery", "--buttons", "8", "--measurements", "0", "--presses", "3", "--warmup", "1"
    )
    assert (report["tags"], report["events"], report["lost"]) == (8, 3, 0)
    assert report["measurement_messages"] == 0


def test_a_chattering_station_is_counted_apart_and_the_presses_go_on() -> None:
    # One button: all twelve presses land on one station within a minute, so the agent
    # reports chatter at the 11th and drops it and the 12th (by design). The benchmark's
    # subscriber once took the fault for a call, failed to read it, and stopped counting.
    report = bench_edge(
        "--no-delivery", "--buttons", "1", "--measurements", "0", "--presses", "12",
        "--warmup", "1",
    )  # fmt: skip
    assert (report["events"], report["lost"], report["other_events"]) == (10, 2, 1)


def test_presses_go_round_the_stations() -> None:
    from bench.edge import STATIONS, _press_buttons

    class Plc:
        def __init__(self) -> None:
            self.pressed: list[int] = []

        def set_coil(self, address: int, value: bool) -> None:
            if value:
                self.pressed.append(address)

    class NobodyListens:
        def count(self) -> int:
            return 0

    plc = Plc()
    _press_buttons(plc, NobodyListens(), 200, 2 * STATIONS, 0.0, wait_s=0.0)  # type: ignore[arg-type]
    stations = [address % STATIONS for address in plc.pressed]
    assert stations == list(range(STATIONS)) * 2
    assert len(set(plc.pressed)) > STATIONS  # random buttons of each, not the same ones


def test_an_agent_that_exits_at_start_fails_the_benchmark_at_once(tmp_path: Path) -> None:
    from bench.edge import measure_process
    from testbed.broker import MosquittoBroker
    from testbed.plc_sim import SimulatedPlc

    with (
        MosquittoBroker(tmp_path / "mosquitto") as broker,
        SimulatedPlc(size=16) as plc,
        pytest.raises(RuntimeError, match="exited \\(3\\) before the presses"),
    ):
        measure_process(
            [sys.executable, "-c", "import sys; print('bad config'); sys.exit(3)"],
            tmp_path, broker, plc, buttons=8, measurements=0, poll_interval_s=0.1,
            presses=50, warmup_s=1.0,
        )  # fmt: skip
