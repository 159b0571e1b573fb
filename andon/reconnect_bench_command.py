"""``andon bench reconnect``: the simulated PLCs the reconnect benchmark takes away and
brings back, made here (the benchmark's floor has no simulator of its own)."""

from __future__ import annotations

import argparse
import json
from typing import Any

# The outages of a run without ``--outage``: a reboot and a longer stop; five minutes
# (``--outage 300``) is a run of its own.
DEFAULT_OUTAGES_S = (10.0, 60.0)


def add_reconnect_bench(bench_commands: Any) -> None:
    reconnect = bench_commands.add_parser(
        "reconnect",
        help="a Modbus TCP and an RTU PLC taken away and brought back: the tries while "
        "they were away and how soon each was read again",
    )
    reconnect.add_argument("--json", action="store_true", help="print JSON (the default)")
    reconnect.add_argument(
        "--outage", type=_seconds, action="append", metavar="S", dest="outages",
        help="an outage's length in seconds, one run each, in order (default: 10 and 60)",
    )  # fmt: skip
    reconnect.set_defaults(handler=_bench_reconnect)


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above zero, not {text}")
    return value


def _bench_reconnect(args: argparse.Namespace) -> int:
    import tempfile
    from pathlib import Path

    from bench.reconnect import Plcs, run_reconnect_bench
    from testbed.plc_sim import SimulatedPlc

    plcs = Plcs(
        tcp=lambda port: SimulatedPlc(port=port),
        rtu=lambda serial_port: SimulatedPlc(serial_port=serial_port),
    )
    with tempfile.TemporaryDirectory(prefix="andon-bench-reconnect-") as folder:
        report = run_reconnect_bench(
            args.outages or DEFAULT_OUTAGES_S, folder=Path(folder), plcs=plcs
        )
    print(json.dumps(report))
    return 0
