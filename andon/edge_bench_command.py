"""``andon bench edge``: the broker and the PLC the edge benchmark needs, started here."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_edge_bench(bench_commands: Any) -> None:
    bench_edge = bench_commands.add_parser(
        "edge", help="edge agent: buttons and measurements at 10 Hz with SPC"
    )
    bench_edge.add_argument("--json", action="store_true", help="print JSON (the default)")
    bench_edge.add_argument("--buttons", type=int, default=200)
    bench_edge.add_argument("--measurements", type=int, default=200)
    bench_edge.add_argument("--poll-interval", type=float, default=0.1, metavar="SECONDS")
    bench_edge.add_argument("--presses", type=int, default=100)
    bench_edge.add_argument("--warmup", type=float, default=3.0, metavar="SECONDS")
    bench_edge.add_argument(
        "--device", choices=("modbus", "opcua", "s7", "logix"), default="modbus",
        help="the PLC: Modbus TCP, polled; OPC UA, its tags monitored items of a "
        "subscription; S7 (python-snap7's server; no hub phase), polled; or Logix "
        "(cpppo's EtherNet/IP simulator, too slow for the default workload; no hub phase), "
        "polled",
    )  # fmt: skip
    bench_edge.add_argument(
        "--node-red",
        type=Path,
        metavar="EXECUTABLE",
        help="run the same workload on this node-red (with node-red-contrib-modbus) instead",
    )
    bench_edge.add_argument(
        "--delivery-presses", type=int, default=50,
        help="presses timed to the hub's confirmation and to the light (with a hub)",
    )  # fmt: skip
    bench_edge.add_argument(
        "--no-delivery", action="store_true",
        help="skip the hub phase (press_to_hub_ack_ms, press_to_light_ms, replay_events_per_s)",
    )  # fmt: skip
    bench_edge.set_defaults(handler=_bench_edge)


def _bench_edge(args: argparse.Namespace) -> int:
    import tempfile

    from bench.edge import run_edge_benchmark
    from bench.edge_delivery import LIGHT_COILS, run_delivery_benchmark
    from bench.nodered import run_node_red_benchmark
    from testbed.broker import MosquittoBroker
    from testbed.opcua_plc import SimulatedOpcUaPlc
    from testbed.plc_sim import SimulatedPlc

    workload = {
        "buttons": args.buttons,
        "measurements": args.measurements,
        "poll_interval_s": args.poll_interval,
        "presses": args.presses,
        "warmup_s": args.warmup,
    }
    if args.device == "s7":
        return _bench_edge_s7(args, workload)
    if args.device == "logix":
        return _bench_edge_logix(workload)
    if args.device == "opcua" and args.node_red is not None:
        raise SystemExit("--node-red runs the Modbus workload only")
    # The delivery phase's tower lights sit above every button and measurement.
    size = max(args.buttons, args.measurements, LIGHT_COILS) + 8
    plc: SimulatedPlc | SimulatedOpcUaPlc = (
        SimulatedOpcUaPlc(bits=size, words=max(args.measurements, 1))
        if args.device == "opcua"
        else SimulatedPlc(size=size)
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        MosquittoBroker(Path(tmp) / "mosquitto") as broker,
        plc,
    ):
        if args.node_red is not None:
            assert isinstance(plc, SimulatedPlc)
            report = run_node_red_benchmark(args.node_red, Path(tmp), broker, plc, **workload)
        else:
            report = run_edge_benchmark(Path(tmp), broker, plc, **workload)
            if not args.no_delivery:
                report |= run_delivery_benchmark(
                    Path(tmp), broker, plc, poll_interval_s=args.poll_interval,
                    presses=args.delivery_presses,
                )  # fmt: skip
    print(json.dumps(report | {"device": args.device}))
    return 0


def _bench_edge_s7(args: argparse.Namespace, workload: dict[str, Any]) -> int:
    import tempfile

    from bench.edge_s7 import run_s7_edge_benchmark
    from testbed.broker import MosquittoBroker
    from testbed.s7_plc import SimulatedS7Plc

    with (
        tempfile.TemporaryDirectory() as tmp,
        MosquittoBroker(Path(tmp) / "mosquitto") as broker,
        SimulatedS7Plc(size=max(args.buttons, args.measurements) + 8) as plc,
    ):
        report = run_s7_edge_benchmark(Path(tmp), broker, plc, **workload)
    print(json.dumps(report))
    return 0


def _bench_edge_logix(workload: dict[str, Any]) -> int:
    import tempfile

    from bench.edge_logix import run_logix_edge_benchmark
    from testbed.broker import MosquittoBroker
    from testbed.logix_plc import SimulatedLogixPlc, bench_tags

    tags = bench_tags(workload["buttons"], workload["measurements"])
    with (
        tempfile.TemporaryDirectory() as tmp,
        MosquittoBroker(Path(tmp) / "mosquitto") as broker,
        SimulatedLogixPlc(tags) as plc,
    ):
        report = run_logix_edge_benchmark(Path(tmp), broker, plc, **workload)
    print(json.dumps(report))
    return 0
