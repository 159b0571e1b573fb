"""The ``andon`` command: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from andon.admin_commands import add_admin_commands
from andon.bench_commands import add_ingest_bench
from andon.deploy_mosquitto import add_deploy_commands
from andon.edge_bench_command import add_edge_bench
from andon.escalation_commands import add_escalation_commands
from andon.reconnect_bench_command import add_reconnect_bench
from andon.roster_commands import add_roster_commands
from andon.spc.commands import add_spc_commands
from andon.user_commands import add_user_commands
from contract.config.loading import ConfigInvalid


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ConfigInvalid as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="andon", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    hub = commands.add_parser("hub", help="run the hub (ingest, calls, API)")
    hub.add_argument("--config", type=Path, required=True, help="hub YAML file")
    hub.set_defaults(handler=_run_hub)

    edge = commands.add_parser("edge", help="run an edge agent for one line")
    edge.add_argument("action", nargs="?", choices=["browse"], help="browse an OPC UA server")
    edge.add_argument("--config", type=Path, required=True, help="edge YAML file")
    edge.add_argument("--device", help="browse: the OPC UA device's id")
    edge.add_argument("--node", help="browse: the NodeId to start from (default: Objects)")
    edge.add_argument("--depth", type=int, default=3, help="browse: levels below it (3)")
    edge.add_argument(
        "--test",
        action="store_true",
        help="read every device once, print each value as a JSON line and exit "
        "(0: every read worked, 1: a read failed)",
    )
    edge.set_defaults(handler=_run_edge)

    demo = commands.add_parser("demo", help="run a small demo plant on this machine")
    demo.add_argument("--port", type=int, default=8000, help="the hub API's port")
    demo.add_argument("--press-every", type=float, default=4.0, help="seconds between presses")
    demo.set_defaults(handler=_run_demo)

    check = commands.add_parser("check-config", help="validate hub and edge YAML files")
    check.add_argument("files", type=Path, nargs="+", metavar="FILE")
    check.add_argument(
        "--offline",
        action="store_true",
        help="check the files alone: read no secret and look up no host name "
        "(for a plant's files checked on another machine)",
    )
    check.set_defaults(handler=_check_config)

    bench_commands = add_spc_commands(commands)
    add_ingest_bench(bench_commands)
    add_edge_bench(bench_commands)
    add_reconnect_bench(bench_commands)
    add_admin_commands(commands)
    add_user_commands(commands)
    add_escalation_commands(commands)
    add_roster_commands(commands)
    add_deploy_commands(commands)
    return parser


# Libraries whose INFO lines (a migration step, each HTTP request, each notification
# sent, a Modbus reconnect) are nothing a person acts on; their warnings still show.
LIBRARIES = ("alembic", "apprise", "httpx", "httpcore", "pymodbus", "aiomqtt", "asyncua")


def _setup_logging() -> None:
    """INFO for the product's own loggers, WARNING for the libraries'; ANDON_LOG_LEVEL and
    ANDON_LIBRARY_LOG_LEVEL (DEBUG, INFO, WARNING, ERROR) ask for more or less."""
    levels = {"DEBUG", "INFO", "WARNING", "ERROR"}
    ours = os.environ.get("ANDON_LOG_LEVEL", "INFO").upper()
    theirs = os.environ.get("ANDON_LIBRARY_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(
        level=ours if ours in levels else "INFO",
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(theirs if theirs in levels else "WARNING")
    for variable, value in (("ANDON_LOG_LEVEL", ours), ("ANDON_LIBRARY_LOG_LEVEL", theirs)):
        if value not in levels:
            logging.getLogger(__name__).warning(
                "%s=%s is not one of %s; ignored", variable, value, ", ".join(sorted(levels))
            )


def _run_hub(args: argparse.Namespace) -> int:
    import asyncio

    from contract.secrets import SecretMissing
    from hub.config.file import load_hub_config
    from hub.db.engine import database_url
    from hub.process.server import serve_hub

    config = load_hub_config(args.config)
    try:
        # Fail at the start, not at the first reconnect, when a secret cannot be found.
        config.broker.resolved_password()
        database_url(config.storage)
    except SecretMissing as exc:
        print(f"{args.config}: {exc}", file=sys.stderr)
        return 1
    _setup_logging()
    asyncio.run(serve_hub(config, config_path=args.config))
    return 0


def _run_edge(args: argparse.Namespace) -> int:
    import asyncio

    from contract.secrets import SecretMissing
    from drivers import OpcUaConfig
    from edge.config import load_edge_config
    from edge.runner import serve_edge

    if args.action == "browse":
        from andon.browse_command import run_browse

        return run_browse(args)
    config = load_edge_config(args.config)
    if args.test:
        from edge.probe import print_probe, probe

        logging.basicConfig(level=logging.CRITICAL)  # only the results and the failures
        return print_probe(asyncio.run(probe(config)), sys.stdout, sys.stderr)
    try:
        config.broker.resolved_password()
        for device in config.devices:
            if isinstance(device, OpcUaConfig):
                device.resolved_user()
    except SecretMissing as exc:
        print(f"{args.config}: {exc}", file=sys.stderr)
        return 1
    _setup_logging()
    serve_edge(config, config_path=args.config)
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    import asyncio

    from andon.demo import run_demo

    _setup_logging()
    asyncio.run(run_demo(api_port=args.port, press_every_s=args.press_every))
    return 0


def _check_config(args: argparse.Namespace) -> int:
    from andon.check_config import check_files

    issues = check_files(args.files, offline=args.offline)
    for issue in issues:
        print(issue)
    errors = [issue for issue in issues if not issue.warning]
    if errors:
        print(f"{len(errors)} error{'s' if len(errors) != 1 else ''}", file=sys.stderr)
        return 1
    for path in args.files:
        print(f"{path}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
