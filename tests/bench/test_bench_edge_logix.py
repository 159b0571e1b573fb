"""``andon bench edge --json --device logix`` prints the edge benchmark's keys (a small
workload on cpppo's EtherNet/IP simulator: a smoke test)."""

from __future__ import annotations

from tests.helpers.bench import bench_edge


def test_bench_edge_on_a_logix_controller_prints_the_pinned_keys_and_loses_nothing() -> None:
    report = bench_edge(
        "--device", "logix", "--buttons", "6", "--measurements", "4", "--presses", "3",
        "--warmup", "2", "--poll-interval", "0.2",
    )  # fmt: skip
    pinned = {"poll_interval_ms", "tags", "events", "lost", "press_to_publish_ms", "rss_mb"}
    assert pinned | {"cpu_percent"} <= set(report)
    assert (report["device"], report["tags"], report["events"], report["lost"]) == (
        "logix", 10, 3, 0,
    )  # fmt: skip
    assert report["measurement_messages"] > 0
