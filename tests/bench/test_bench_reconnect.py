"""``andon bench reconnect --json`` runs a short outage end to end and prints its keys."""

from __future__ import annotations

import json
import subprocess

from tests.helpers.plant import ANDON

FIGURES = {
    "outage_s", "device", "tries", "gap_p50_s", "gap_p95_s", "gap_max_s",
    "last_try_before_back_s", "read_after_back_s", "press_seen_after_back_s",
    "tries_after_back",
}  # fmt: skip


def test_bench_reconnect_prints_the_figures_of_both_plcs() -> None:
    result = subprocess.run(
        [*ANDON, "bench", "reconnect", "--json", "--outage", "2"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"outages", "retry_within_s", "poll_interval_s"}
    assert [(row["outage_s"], row["device"]) for row in report["outages"]] == [
        (2, "tcp"),
        (2, "rtu"),
    ]
    for row in report["outages"]:
        assert set(row) == FIGURES
        # Tried while it was away, then read: each figure after the one it follows.
        assert row["tries"] >= 2
        assert 0 < row["gap_p50_s"] <= row["gap_p95_s"] <= row["gap_max_s"]
        assert 0 < row["read_after_back_s"] <= row["press_seen_after_back_s"]
        assert isinstance(row["tries_after_back"], int)


def test_bench_reconnect_refuses_an_outage_of_no_length() -> None:
    result = subprocess.run(
        [*ANDON, "bench", "reconnect", "--json", "--outage", "0"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert "must be above zero" in result.stderr
