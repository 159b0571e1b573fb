"""``andon bench e2e`` through the real command on a small plant: the pinned keys, nothing
lost, every latency positive and in the order the hops come; and a Ctrl-C stops every
process the benchmark started. No duration is asserted (CI is noisy)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.usage import process_tree

pytestmark = [pytest.mark.system, pytest.mark.browser]

COMMAND = [sys.executable, "-m", "andon.cli", "bench", "e2e", "--json"]
SMALL = ["--lines", "2", "--stations", "3", "--rate", "3"]
LATENCIES = (
    "press_to_call_ms", "press_to_notification_ms", "press_to_light_ms", "press_to_board_ms",
)  # fmt: skip
PINNED = {"lines", "stations", "presses", "lost", "hub_cpu_percent", "hub_rss_mb", "edges"}


def test_a_small_plant_prints_the_pinned_keys_loses_nothing_and_orders_its_hops(
    tmp_path: Path,
) -> None:
    trace = tmp_path / "trace.jsonl"
    done = subprocess.run(
        [*COMMAND, *SMALL, "--presses", "12", "--trace", str(trace)],
        capture_output=True, text=True, check=False, timeout=150,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) >= PINNED | set(LATENCIES)
    figures = (result["lines"], result["stations"], result["presses"], result["lost"])
    assert figures == (2, 3, 12, 0), (result, trace.read_text())
    for key in LATENCIES:
        assert result[key] is not None, result.get("press_to_board_reason")
        assert set(result[key]) == {"p50", "p99"}
        assert 0 < result[key]["p50"] <= result[key]["p99"]
    p50 = {key: result[key]["p50"] for key in LATENCIES}
    # Stored first: the notification and the light follow the hub's commit (the board's
    # sample is one line's presses: it is compared with the same presses, in the trace).
    assert p50["press_to_call_ms"] <= p50["press_to_notification_ms"]
    assert p50["press_to_call_ms"] <= p50["press_to_light_ms"]
    assert result["press_to_publish_ms"]["p50"] <= p50["press_to_call_ms"]
    assert result["hub_rss_mb"] > 0
    assert result["hub_cpu_percent"] >= 0
    assert sorted(edge["line"] for edge in result["edges"]) == ["line01", "line02"]
    assert all(edge["rss_mb"] > 0 and edge["cpu_percent"] >= 0 for edge in result["edges"])
    _trace_has_every_press_in_order(trace, presses=12, warm_up=2)


def test_a_small_plant_on_opc_ua_plcs_prints_the_pinned_keys_and_loses_nothing(
    tmp_path: Path,
) -> None:
    trace = tmp_path / "trace.jsonl"
    done = subprocess.run(
        [*COMMAND, *SMALL, "--device", "opcua", "--presses", "6", "--no-board",
         "--trace", str(trace)],
        capture_output=True, text=True, check=False, timeout=150,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) >= PINNED | set(LATENCIES)
    figures = (result["lines"], result["stations"], result["presses"], result["lost"])
    assert figures == (2, 3, 6, 0), (result, trace.read_text())
    assert result["device"] == "opcua"
    for key in ("press_to_call_ms", "press_to_notification_ms", "press_to_light_ms"):
        assert 0 < result[key]["p50"] <= result[key]["p99"]
    assert result["press_to_board_ms"] is None  # --no-board
    assert set(result["targets"]) == {"press_to_light_ms.p99", "press_to_notification_ms.p99"}
    rows = [json.loads(line) for line in trace.read_text().splitlines()]
    assert all(row["publish"] <= row["call"] for row in rows), rows


def _trace_has_every_press_in_order(trace: Path, *, presses: int, warm_up: int) -> None:
    rows = [json.loads(line) for line in trace.read_text().splitlines()]
    assert [row["warm_up"] for row in rows].count(False) == presses
    assert [row["warm_up"] for row in rows].count(True) == warm_up
    for row in rows:
        hops = [row[hop] for hop in ("publish", "call", "light", "notification")]
        assert None not in hops, row
        assert all(ms > 0 for ms in hops), row
        # The hub confirms an event only after the broker passed it on.
        assert row["publish"] <= row["call"], row
    sample = [row for row in rows if row["line"] == "line01" and not row["warm_up"]]
    assert sample
    # The tile is not compared with the other hops: each is seen on a path of its own (the
    # browser's clock and page, the benchmark's subscriber thread), and on a loaded machine
    # either path can lag the other. The tile turned raised after the press, for every press.
    assert all(row["board"] is not None and row["board"] > 0 for row in sample), sample


def test_ctrl_c_stops_every_process_the_benchmark_started() -> None:
    # Its own session, so the interrupt goes to its whole process group, as a terminal's.
    bench = subprocess.Popen(
        [*COMMAND, *SMALL, "--presses", "1000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert bench.stderr is not None
        for line in bench.stderr:
            if "pressing:" in line:
                break
        else:
            pytest.fail(f"the benchmark ended before pressing: {bench.wait()}")
        started = set(process_tree(bench.pid)) - {bench.pid}
        # The broker, the hub (and its workers), two edges, the browser.
        assert len(started) >= 5
        os.killpg(bench.pid, signal.SIGINT)
        code = bench.wait(timeout=90)
        assert code == 130, bench.stderr.read()[-4000:]  # the traceback, if it left with one
        assert bench.stdout is not None
        assert bench.stdout.read() == ""  # no figures
    finally:
        if bench.poll() is None:
            bench.kill()
            bench.wait()
        for pipe in (bench.stdout, bench.stderr):
            if pipe is not None:
                pipe.close()
    assert _still_running(started, within_s=10) == set()


def _still_running(pids: set[int], *, within_s: float) -> set[int]:
    """Those of ``pids`` that have not ended (zombies waiting to be reaped have)."""
    deadline = time.monotonic() + within_s
    while True:
        running = {pid for pid in pids if _alive(pid)}
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
