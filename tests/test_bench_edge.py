"""``andon bench edge --json`` prints the pinned keys (a small workload: a smoke test)."""

from __future__ import annotations

import json
import subprocess

from tests.plant import ANDON


def test_bench_edge_prints_the_pinned_keys_and_loses_nothing() -> None:
    small = ["--buttons", "8", "--measurements", "8", "--presses", "4", "--warmup", "1",
             "--delivery-presses", "3"]  # fmt: skip
    result = subprocess.run(
        [*ANDON, "bench", "edge", "--json", *small],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
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
