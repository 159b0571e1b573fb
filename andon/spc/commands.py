"""Argument parsing for ``andon spc ...`` and ``andon bench ...``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from andon.spc.chart_names import CHARTS

EXIT_BAD_INPUT = 2


def add_spc_commands(commands: Any) -> Any:
    spc = commands.add_parser("spc", help="control charts, tests for special causes, backtests")
    spc_commands = spc.add_subparsers(required=True, metavar="SPC_COMMAND")
    ev = spc_commands.add_parser("eval", help="evaluate one control chart from a CSV file")
    ev.add_argument("--chart", required=True, choices=CHARTS)
    ev.add_argument("--input", required=True, type=Path, metavar="FILE.csv")
    ev.add_argument(
        "--sigma-method",
        choices=["uwave-r", "mvlue-r", "uwave-sd", "mvlue-sd", "rmsdf", "mr", "sd"],
    )
    ev.add_argument("--center", type=float, help="known center (p, u: the known rate)")
    ev.add_argument("--sigma", type=float, help="known process sigma")
    ev.add_argument(
        "--phase1", type=int, metavar="K", help="the first K subgroups or points set the limits"
    )
    ev.add_argument("--nsigmas", type=float, default=3.0)
    ev.add_argument("--rules", choices=["nelson", "western-electric", "none"], default="nelson")
    ev.add_argument("--test-param", action="append", default=[], metavar="TEST=K")
    ev.add_argument("--lambda", dest="lam", type=float, default=0.2)
    ev.add_argument("--h", type=float, default=5.0)
    ev.add_argument("--k", type=float, default=0.5)
    ev.add_argument("--head-start", type=float, default=0.0)
    ev.add_argument("--lsl", type=float)
    ev.add_argument("--usl", type=float)
    ev.add_argument("--target", type=float)
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(handler=_spc_eval)

    bt = spc_commands.add_parser("backtest", help="replay history through a rule file")
    bt.add_argument("--rules", required=True, type=Path, metavar="FILE.yaml")
    bt.add_argument("--data", required=True, type=Path, metavar="HISTORY.csv")
    bt.add_argument("--plot", type=Path, metavar="OUT.png")
    bt.add_argument("--seed", type=int, default=1, help="seed of the ARL simulation")
    bt.add_argument(
        "--compare",
        type=Path,
        metavar="OTHER.yaml",
        help="a second rule file, run on the same history and shown beside the first",
    )
    bt.add_argument("--json", action="store_true", help="print the report as JSON")
    bt.set_defaults(handler=_spc_backtest)

    bench = commands.add_parser("bench", help="benchmarks that print JSON")
    bench_commands = bench.add_subparsers(required=True, metavar="BENCHMARK")
    bench_spc = bench_commands.add_parser("spc", help="SPC core: batch, streaming, reference")
    bench_spc.add_argument("--json", action="store_true", help="print JSON (the default)")
    bench_spc.add_argument("--characteristics", type=int, default=10_000)
    bench_spc.add_argument("--points", type=int, default=1_000)
    bench_spc.set_defaults(handler=_bench_spc)
    return bench_commands


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _test_params(items: list[str]) -> dict[int, float]:
    params: dict[int, float] = {}
    for item in items:
        test, _, value = item.partition("=")
        try:
            params[int(test)] = float(value)
        except ValueError:
            raise ValueError(f"--test-param {item!r}: expected TEST=K, as in 2=8") from None
    return params


def _spc_eval(args: argparse.Namespace) -> int:
    try:
        from andon.spc.evaluate import EvalRequest, run_eval

        request = EvalRequest(
            chart=args.chart,
            input=args.input,
            sigma_method=args.sigma_method,
            center=args.center,
            sigma=args.sigma,
            phase1=args.phase1,
            nsigmas=args.nsigmas,
            rules=args.rules,
            test_params=_test_params(args.test_param),
            lam=args.lam,
            h=args.h,
            k=args.k,
            head_start=args.head_start,
            lsl=args.lsl,
            usl=args.usl,
            target=args.target,
        )
        result = run_eval(request)
    except ValueError as exc:  # InputError, ChartDataError, bad rule parameters
        return _fail(str(exc))
    if args.json:
        print(json.dumps(result, allow_nan=False))
    else:
        print(_summary(result))
    return 0


def _summary(result: dict[str, Any]) -> str:
    lines = [f"chart {result['chart']}: center {result['center']}, sigma {result['sigma']}"]
    for name, indices in result["violations"].items():
        lines.append(f"  test {name}: {len(indices)} point(s) {indices[:10]}")
    if "capability" in result:
        lines.append(
            "  capability: "
            + ", ".join(
                f"{key} {value:.4g}"
                for key, value in result["capability"].items()
                if isinstance(value, float)
            )
        )
    return "\n".join(lines)


def _spc_backtest(args: argparse.Namespace) -> int:
    from andon.spc.backtest import backtest, read_history
    from andon.spc.backtest_text import backtest_table

    try:
        history = read_history(args.data)
        runs = [backtest(args.rules, history, plot=args.plot, seed=args.seed)]
        if args.compare is not None:
            runs.append(backtest(args.compare, history, plot=None, seed=args.seed))
    except ValueError as exc:
        return _fail(str(exc))
    if not args.json:
        print(backtest_table(runs, data_name=args.data.name))
    elif args.compare is None:
        print(json.dumps(runs[0].report, indent=2, allow_nan=False))
    else:
        # Each file's report under the option that named it, with the file's name.
        both = {
            key: {"file": str(run.rules_path), **run.report}
            for key, run in zip(("rules", "compare"), runs, strict=True)
        }
        print(json.dumps(both, indent=2, allow_nan=False))
    return 0


def _bench_spc(args: argparse.Namespace) -> int:
    from bench.spc import run_spc_benchmark

    print(json.dumps(run_spc_benchmark(args.characteristics, args.points)))
    return 0
