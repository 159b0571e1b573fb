"""``andon bench scale --json`` runs end to end on a small plant and prints the pinned keys."""

from __future__ import annotations

import json
import subprocess

from tests.plant import ANDON

PINNED = {
    "edges", "stations", "calls", "measurements_per_s", "lost", "duplicates", "call_lag_ms",
    "hub_rss_mb", "hub_cpu_percent", "connect_storm_s",
}  # fmt: skip


def test_bench_scale_prints_the_pinned_keys_and_loses_nothing() -> None:
    done = subprocess.run(
        [*ANDON, "bench", "scale", "--json", "--edges", "10", "--stations", "4",
         "--duration", "4", "--call-every", "4"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result) == PINNED
    assert set(result["call_lag_ms"]) == {"p50", "p99"}
    assert result["edges"] == 10
    assert result["stations"] == 40
    # 40 stations, a call each every 4 s on average, for 4 s and more: a handful at least.
    assert result["calls"] > 5
    assert result["lost"] == 0
    assert result["duplicates"] == 0
    assert result["measurements_per_s"] > 0
    assert result["hub_rss_mb"] > 0
    assert result["call_lag_ms"]["p50"] <= result["call_lag_ms"]["p99"]
