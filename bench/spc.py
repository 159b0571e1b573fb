"""SPC core benchmark: batch over characteristics x points, streaming one point for each
characteristic, and a per-point Python reference, all timed in one run.

Ratios (batch to numpy's single-pass floor, batch to the reference) are what to compare
across machines; absolute times depend on the machine.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.reference_tests import reference_flags
from rules.spc.batch import individuals_batch
from rules.spc.rule_sets import RuleSet
from rules.spc.streaming import StreamingTests

RULES = RuleSet.preset("nelson")


def _best_of(repeats: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def run_spc_benchmark(characteristics: int = 10_000, points: int = 1_000) -> dict[str, Any]:
    rng = np.random.default_rng(20261124)
    x = rng.standard_normal((characteristics, points))
    floor = _best_of(5, lambda: np.add.reduce(x, axis=None))
    batch = _best_of(3, lambda: individuals_batch(x, RULES))

    streaming = StreamingTests(
        center=np.zeros(characteristics), sigma=np.ones(characteristics), rules=RULES
    )
    latencies = []
    for t in range(300):
        column = x[:, t % points]
        started = time.perf_counter()
        streaming.update(column)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies = latencies[20:]  # warm-up

    series = max(1, 100_000 // points)
    subset = x[:series]
    params = dict(RULES.params)
    started = time.perf_counter()
    for row in subset:
        reference_flags(row.tolist(), float(row.mean()), 1.0, params)
    reference = time.perf_counter() - started
    total = characteristics * points
    reference_points = subset.size
    return {
        "batch": {
            "characteristics": characteristics,
            "points": points,
            "seconds": batch,
            "points_per_s": total / batch,
            "floor_seconds": floor,
            "ratio_to_floor": batch / floor,
        },
        "streaming": {
            "characteristics": characteristics,
            "median_ms": statistics.median(latencies),
            "p99_ms": float(np.percentile(latencies, 99)),
            "updates": len(latencies),
        },
        "reference": {
            "points": reference_points,
            "seconds": reference,
            "points_per_s": reference_points / reference,
            "speedup": (total / batch) / (reference_points / reference),
        },
    }
