"""The edge benchmark's workload on an S7 PLC: 200 buttons and 200 measurements (400
tags) polled at 10 Hz with SPC on, the same keys as ``bench.edge``.

The PLC is python-snap7's server (``testbed.s7_plc``): the buttons are bits of DB1
(``DB1.DBX0.0`` on), the measurements words of DB2 (``DB2.DBW0`` on), so the agent
reads them in a few area reads per cycle. Presses and their timing are
``bench.edge.measure_process``'s.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bench.edge import STATIONS, Broker, Plc, measure_process
from testbed.s7_plc import BUTTON_DB, WORD_DB


def tag_edge_config(
    folder: Path, broker: Broker, device: dict[str, Any], *, button: Callable[[int], str],
    word: Callable[[int], str], buttons: int, measurements: int, poll_interval_s: float,
) -> Path:  # fmt: skip
    """The edge file of the workload on a PLC read by address strings: ``device``'s
    ``button(i)`` and ``word(i)`` (raw 10000 around the SPC centre, scale 0.1)."""
    device_id = device["id"]
    rules = {
        "characteristics": [
            {"id": f"c{i}", "chart": "imr", "center": 1000.0, "sigma": 10.0}
            for i in range(measurements)
        ]
    }
    (folder / "rules.yaml").write_text(yaml.safe_dump(rules))
    config: dict[str, Any] = {
        "edge_id": "bench-edge", "site": "bench", "area": "a", "line": "l",
        "broker": {"host": broker.host, "port": broker.port, "topic_prefix": "bench"},
        # As in bench.edge: no hub confirms anything, and a press counts on its first sample.
        "outbox": {"path": str(folder / "outbox.sqlite3"), "window": 100_000},
        "poll_interval_s": poll_interval_s,
        "debounce_s": 0.0,
        "devices": [device],
        "buttons": [
            {"device": device_id, "address": button(i), "station": f"st{i % STATIONS}",
             "call_type": "help"}
            for i in range(buttons)
        ],
        "measurements": [
            {"name": f"m{i}", "device": device_id, "address": word(i), "scale": 0.1,
             "station": f"st{i % STATIONS}"}
            for i in range(measurements)
        ],
    }  # fmt: skip
    if measurements:
        config["spc"] = {
            "rule_file": "rules.yaml",
            "characteristics": [
                {"characteristic": f"c{i}", "measurement": f"m{i}"} for i in range(measurements)
            ],
        }
    path = folder / "edge.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_s7_edge_benchmark(
    folder: Path, broker: Broker, plc: Plc, *, buttons: int = 200, measurements: int = 200,
    poll_interval_s: float = 0.1, presses: int = 100, warmup_s: float = 3.0,
) -> dict[str, Any]:  # fmt: skip
    """Run the workload against ``broker`` and an S7 ``plc``; the pinned keys."""
    device = {"kind": "s7", "id": "plc1", "host": plc.host, "port": plc.port}
    path = tag_edge_config(
        folder, broker, device, button=lambda i: f"DB{BUTTON_DB}.DBX{i // 8}.{i % 8}",
        word=lambda i: f"DB{WORD_DB}.DBW{2 * i}", buttons=buttons, measurements=measurements,
        poll_interval_s=poll_interval_s,
    )  # fmt: skip
    report = measure_process(
        [sys.executable, "-m", "andon.cli", "edge", "--config", str(path)], folder, broker,
        plc, buttons=buttons, measurements=measurements, poll_interval_s=poll_interval_s,
        presses=presses, warmup_s=warmup_s,
    )  # fmt: skip
    return {"device": "s7"} | report
