"""A smoke test of ``andon bench reports``: a few days of one line, the pinned keys."""

from __future__ import annotations

import json
import subprocess
import sys


def test_bench_reports_prints_the_pinned_keys() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "andon.cli", "bench", "reports", "--json", "--lines", "1",
         "--days", "2", "--repeat", "1"],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    result = json.loads(done.stdout)
    # 20 stations, 12 two-hour cycles a day, each a running stretch and a stop.
    assert result["periods"] == 20 * 2 * 12 * 2
    for key in ("oee_query_ms", "downtime_query_ms"):
        assert set(result[key]) == {"p50", "p99"}
        assert 0 < result[key]["p50"] <= result[key]["p99"]
