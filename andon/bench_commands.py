"""``andon bench ingest``, ``andon bench escalation``, ``andon bench scale`` and ``andon
bench e2e``: the servers they need, started and stopped here."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from testbed.broker import MosquittoBroker


def add_ingest_bench(bench_commands: Any) -> None:
    ingest = bench_commands.add_parser(
        "ingest", help="call events through Mosquitto into the hub, against a bare subscriber"
    )
    ingest.add_argument("--json", action="store_true", help="print JSON (the default)")
    ingest.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    ingest.add_argument("--events", type=int, default=20_000)
    ingest.set_defaults(handler=_bench_ingest)
    scale = bench_commands.add_parser(
        "scale", help="many simulated edges over Mosquitto into one hub: lag, loss, memory"
    )
    scale.add_argument("--json", action="store_true", help="print JSON (the default)")
    scale.add_argument("--edges", type=int, default=500)
    scale.add_argument("--stations", type=int, default=20, help="stations per edge")
    scale.add_argument("--duration", type=float, default=60.0, help="seconds after the storm")
    scale.add_argument(
        "--call-every", type=float, default=600.0, help="mean seconds between a station's calls"
    )
    scale.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    scale.set_defaults(handler=_bench_scale)
    escalation = bench_commands.add_parser(
        "escalation",
        help="presses through Mosquitto into the hub, its messages into a local receiver",
    )
    escalation.add_argument("--json", action="store_true", help="print JSON (the default)")
    escalation.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    escalation.add_argument("--calls", type=int, default=50, help="one call per station")
    escalation.set_defaults(handler=_bench_escalation)
    _add_e2e_bench(bench_commands)
    reports = bench_commands.add_parser(
        "reports", help="a year of machine states for 200 stations; the month's OEE and downtime"
    )
    reports.add_argument("--json", action="store_true", help="print JSON (the default)")
    reports.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    reports.add_argument("--lines", type=_positive(int), default=10, help="20 stations each")
    reports.add_argument("--days", type=_positive(int), default=365)
    reports.add_argument("--repeat", type=_positive(int), default=10, help="timings per scope")
    reports.set_defaults(handler=_bench_reports)


def _add_e2e_bench(bench_commands: Any) -> None:
    e2e = bench_commands.add_parser(
        "e2e", help="presses on simulated PLCs to the stored call, notification, light, board"
    )
    e2e.add_argument("--json", action="store_true", help="print JSON (the default)")
    e2e.add_argument("--lines", type=_positive(int), default=10, help="an edge and a PLC each")
    e2e.add_argument("--stations", type=_positive(int), default=20, help="stations per line")
    e2e.add_argument("--rate", type=_positive(float), default=2.0, help="presses/s in all")
    e2e.add_argument("--presses", type=_positive(int), default=180, help="presses counted")
    e2e.add_argument(
        "--poll-interval", type=_positive(float), default=0.1, metavar="SECONDS",
        help="the edges' poll interval",
    )  # fmt: skip
    e2e.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    e2e.add_argument(
        "--device", choices=["modbus", "opcua"], default="modbus",
        help="each line's PLC: Modbus TCP, polled; or OPC UA, its buttons subscribed to",
    )  # fmt: skip
    e2e.add_argument(
        "--no-board", action="store_true", help="no browser: press_to_board_ms is null"
    )
    e2e.add_argument(
        "--trace", type=Path, metavar="FILE",
        help="write each press's hops (ms from the press) to FILE, a JSON line each",
    )  # fmt: skip
    e2e.set_defaults(handler=_bench_e2e)


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above zero, not {text}")
        return value

    return parse


@contextlib.contextmanager
def _database(backend: str, workdir: Path) -> Iterator[str]:
    from testbed.postgres import PostgresServer

    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'hub.sqlite3'}"
        return
    with PostgresServer(workdir / "postgres") as server:
        yield server.url


@contextlib.contextmanager
def _servers(
    backend: str, *, prefix: str = "andon-bench-"
) -> Iterator[tuple[Path, MosquittoBroker, str]]:
    """A working directory, a Mosquitto and the hub's database in it, for one run; all
    stopped and removed afterwards."""
    from testbed.broker import MosquittoBroker

    with (
        tempfile.TemporaryDirectory(prefix=prefix) as directory,
        MosquittoBroker(Path(directory) / "mosquitto") as broker,
        _database(backend, Path(directory)) as url,
    ):
        yield Path(directory), broker, url


def _bench_ingest(args: argparse.Namespace) -> int:
    from bench.ingest import Broker, run_ingest_bench

    with _servers(args.backend) as (workdir, broker, url):
        result = run_ingest_bench(
            broker=Broker(broker.host, broker.port),
            database_url=url,
            backend=args.backend,
            events=args.events,
            workdir=workdir,
        )
    print(json.dumps(result))
    return 0


def _bench_reports(args: argparse.Namespace) -> int:
    from bench.reports import run_reports_bench

    with (
        tempfile.TemporaryDirectory(prefix="andon-bench-reports-") as directory,
        _database(args.backend, Path(directory)) as url,
    ):
        result = run_reports_bench(
            database_url=url, backend=args.backend, lines=args.lines, days=args.days,
            repeat=args.repeat,
        )  # fmt: skip
    print(json.dumps(result))
    return 0


def _bench_scale(args: argparse.Namespace) -> int:
    from bench.ingest import Broker
    from bench.scale import run_scale_bench

    with _servers(args.backend) as (workdir, broker, url):
        result = run_scale_bench(
            broker=Broker(broker.host, broker.port, broker.pid),
            database_url=url,
            workdir=workdir,
            edges=args.edges,
            stations=args.stations,
            duration_s=args.duration,
            call_every_s=args.call_every,
        )
    print(json.dumps(result))
    return 0


def _bench_escalation(args: argparse.Namespace) -> int:
    from bench.escalation import Broker, run_escalation_bench

    with _servers(args.backend) as (workdir, broker, url):
        result = run_escalation_bench(
            broker=Broker(broker.host, broker.port),
            database_url=url,
            workdir=workdir,
            calls=args.calls,
        )
    print(json.dumps(result))
    return 0


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so every process the benchmark started is stopped.
    Once either came, whatever fails on the way out is that interrupt, not an error of
    the benchmark: the processes it started got the same signal (a terminal sends it to
    the whole process group) and may be gone before the interrupt reaches our own code."""
    received: list[int] = []

    def interrupt(signum: int, frame: object) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    except Exception:
        if received:
            raise KeyboardInterrupt from None
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _bench_e2e(args: argparse.Namespace) -> int:
    from bench.e2e import Options, run_e2e_bench
    from bench.e2e_plant import Layout
    from testbed.opcua_plc import SimulatedOpcUaPlc
    from testbed.plc_sim import SimulatedPlc

    layout = Layout(
        lines=args.lines, stations=args.stations, poll_interval_s=args.poll_interval,
        device=args.device,
    )  # fmt: skip

    def plc(coils: int) -> SimulatedPlc | SimulatedOpcUaPlc:
        if args.device == "opcua":
            return SimulatedOpcUaPlc(bits=coils, words=0)
        return SimulatedPlc(size=coils)

    options = Options(
        presses=args.presses, rate_per_s=args.rate, board=not args.no_board, trace=args.trace
    )
    with (
        _terminate_as_interrupt(),
        _servers(args.backend, prefix="andon-bench-e2e-") as (workdir, broker, url),
    ):
        result = run_e2e_bench(
            broker=broker, plcs=plc, database_url=url,
            workdir=workdir, layout=layout, options=options,
        )  # fmt: skip
        result["backend"] = args.backend
    print(json.dumps(result))
    return 0
