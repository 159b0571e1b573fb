"""Running ``andon bench`` commands for the benchmarks' smoke tests."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from tests.helpers.plant import ANDON


def bench_edge(*args: str) -> dict[str, Any]:
    """The report of ``andon bench edge --json`` with ``args``; it must exit 0."""
    result = subprocess.run(
        [*ANDON, "bench", "edge", "--json", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report
