"""``andon bench ingest`` prints the pinned keys, and a small run loses and doubles nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.system

KEYS = {
    "backend", "events", "events_per_s", "raw_broker_per_s", "ratio", "lost", "duplicates",
    "p99_lag_ms", "api_p99_ms",
}  # fmt: skip


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_bench_ingest_prints_the_pinned_keys_and_loses_nothing(backend: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "andon.cli", "bench", "ingest", "--json",
         "--backend", backend, "--events", "500"],
        capture_output=True, text=True, check=False, timeout=110,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == KEYS
    assert (result["backend"], result["events"]) == (backend, 500)
    assert (result["lost"], result["duplicates"]) == (0, 0)
    assert result["ratio"] == pytest.approx(
        result["events_per_s"] / result["raw_broker_per_s"], abs=0.001
    )
