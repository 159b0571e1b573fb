"""``andon bench scale --json`` runs end to end on a small plant and prints the pinned keys,
and beside them the keys that say whether the offered load was met and the hub kept up."""

from __future__ import annotations

import json
import subprocess

from tests.helpers.plant import ANDON

PINNED = {
    "edges", "stations", "calls", "measurements_per_s", "lost", "duplicates", "call_lag_ms",
    "hub_rss_mb", "hub_cpu_percent", "connect_storm_s",
}  # fmt: skip
EXTRA = {
    "simulator_behind_ms", "measurements_offered_per_s", "measurements_dropped",
    "measurements_drained_s", "simulator_cpu_percent", "load_average", "hub_pss_mb",
    "broker_cpu_percent", "broker_messages_per_s",
}  # fmt: skip


def test_bench_scale_prints_the_pinned_keys_and_loses_nothing() -> None:
    done = subprocess.run(
        [*ANDON, "bench", "scale", "--json", "--edges", "10", "--stations", "4",
         "--duration", "4", "--call-every", "4"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result) == PINNED | EXTRA
    assert set(result["call_lag_ms"]) == {"p50", "p99"}
    assert set(result["simulator_behind_ms"]) == {"p50", "p99"}
    assert result["edges"] == 10
    assert result["stations"] == 40
    # 40 stations, a call each every 4 s on average, for 4 s and more: a handful at least.
    assert result["calls"] > 5
    assert result["lost"] == 0
    assert result["duplicates"] == 0
    # 40 stations, 5 readings each a second, taken in by the hub's measurement process;
    # far below its queue's bound, so none is dropped (or missing: that counts as dropped).
    assert 0 < result["measurements_offered_per_s"] <= 200
    assert result["measurements_per_s"] > 0
    assert result["measurements_dropped"] == 0
    assert 0 < result["hub_pss_mb"] <= result["hub_rss_mb"]
    assert result["call_lag_ms"]["p50"] <= result["call_lag_ms"]["p99"]
    # The broker's CPU was read (at this load it may round to nothing), and every edge
    # published a message a second.
    assert isinstance(result["broker_cpu_percent"], float)
    assert result["broker_cpu_percent"] >= 0
    assert result["broker_messages_per_s"] >= 10
