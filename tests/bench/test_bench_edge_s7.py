"""``andon bench edge --json --device s7`` prints the edge benchmark's keys (a small
workload on python-snap7's server: a smoke test)."""

from __future__ import annotations

from tests.helpers.bench import bench_edge


def test_bench_edge_on_an_s7_plc_prints_the_pinned_keys_and_loses_nothing() -> None:
    report = bench_edge(
        "--device", "s7", "--buttons", "12", "--measurements", "8", "--presses", "4",
        "--warmup", "1",
    )  # fmt: skip
    pinned = {"poll_interval_ms", "tags", "events", "lost", "press_to_publish_ms", "rss_mb"}
    assert pinned | {"cpu_percent"} <= set(report)
    assert (report["device"], report["tags"], report["events"], report["lost"]) == (
        "s7", 20, 4, 0,
    )  # fmt: skip
    assert report["measurement_messages"] > 0
