"""``andon bench escalation`` prints the pinned keys, and nothing is missed or doubled."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.system

PINNED = {
    "calls", "notifications", "missed", "duplicated", "raise_to_first_notification_ms",
    "level_lateness_ms", "tick_ms_at_1000_open_calls",
}  # fmt: skip


def test_bench_escalation_prints_the_pinned_keys_and_misses_and_doubles_nothing() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "andon.cli", "bench", "escalation", "--json", "--calls", "10"],
        capture_output=True, text=True, check=False, timeout=110,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) >= PINNED
    assert (result["calls"], result["missed"], result["duplicated"]) == (10, 0, 0)
    assert result["notifications"] == result["calls"] * 3  # three levels each
    for key in ("raise_to_first_notification_ms", "level_lateness_ms"):
        assert set(result[key]) == {"p50", "p99"}
        assert result[key]["p50"] <= result[key]["p99"]
