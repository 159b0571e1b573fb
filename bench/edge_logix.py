"""The edge benchmark's workload on a Logix controller: buttons and measurements polled
with SPC on, the same keys as ``bench.edge``.

The controller is cpppo's EtherNet/IP simulator (``testbed.logix_plc``): the buttons
are elements of the BOOL array ``Button``, the measurements of the INT array ``Word``,
read in multi-service requests each cycle. The simulator is a pure-Python server and
answers a 400-tag read in seconds on a shared machine, so the S7 workload (400 tags at
10 Hz) does not fit it: give a smaller one (``--buttons``, ``--measurements``,
``--poll-interval``). Presses and their timing are ``bench.edge.measure_process``'s.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from bench.edge import Broker, measure_process
from bench.edge_s7 import tag_edge_config
from testbed.logix_plc import SimulatedLogixPlc


def run_logix_edge_benchmark(
    folder: Path, broker: Broker, plc: SimulatedLogixPlc, *, buttons: int, measurements: int,
    poll_interval_s: float, presses: int, warmup_s: float,
) -> dict[str, Any]:  # fmt: skip
    """Run the workload against ``broker`` and a simulated Logix ``plc``; the pinned keys."""
    path = tag_edge_config(
        folder, broker, plc.device(timeout_s=10), button=lambda i: f"Button[{i}]",
        word=lambda i: f"Word[{i}]", buttons=buttons, measurements=measurements,
        poll_interval_s=poll_interval_s,
    )  # fmt: skip
    report = measure_process(
        [sys.executable, "-m", "andon.cli", "edge", "--config", str(path)], folder, broker,
        plc, buttons=buttons, measurements=measurements, poll_interval_s=poll_interval_s,
        presses=presses, warmup_s=warmup_s,
    )  # fmt: skip
    return {"device": "logix"} | report
