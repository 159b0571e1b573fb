"""``andon escalation explain``: the dry run of an escalation policy, from the file alone."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.config.escalation import PolicyConfig
    from hub.config.file import HubConfig
    from hub.shifts.overrides import Cover

EXPLAIN_HELP = """\
Print who a call would reach, at which offset, through which channels (secrets
redacted) and why, from the configuration alone: nothing is sent and no secret is read.
TIME is ISO 8601 (2026-12-01T09:30 or 2026-12-01T01:30Z). Without an offset it is the
local time of the rosters the policy names, or UTC when the policy names no roster.
Repeating levels are listed up to one hour (3600 s) after the call is raised.
Roster overrides (andon roster override) are read from the hub's database when it can
be reached: a person covered at a step's moment is replaced by who covers them."""


def add_escalation_commands(commands: Any) -> None:
    """The ``escalation`` subcommands on the ``andon`` parser."""
    escalation = commands.add_parser("escalation", help="escalation policies").add_subparsers(
        required=True, metavar="ACTION"
    )
    explain = escalation.add_parser(
        "explain",
        help="dry run: who a call would reach, when and why",
        description=EXPLAIN_HELP,
    )
    explain.add_argument("--config", type=Path, required=True, help="hub YAML file")
    explain.add_argument("--line", required=True)
    explain.add_argument("--station", required=True)
    explain.add_argument("--call-type", required=True)
    explain.add_argument(
        "--at",
        required=True,
        metavar="TIME",
        help="when the call is raised, ISO 8601; without an offset, the local time of the "
        "policy's rosters, or UTC when it names none",
    )
    explain.add_argument("--json", action="store_true", help="print a JSON object")
    explain.set_defaults(handler=_explain)


class ExplainRefused(Exception):
    """The question cannot be answered from this file; the message says why."""


def _explain(args: argparse.Namespace) -> int:
    from hub.config.file import load_hub_config
    from hub.escalation.explain import explain, render

    config = load_hub_config(args.config)
    try:
        policy = _policy(config, args)
        at = _moment(args.at, config, policy)
    except ExplainRefused as exc:
        print(f"{args.config}: {exc}", file=sys.stderr)
        return 1
    explanation = explain(policy, config, at, _covers(config, policy, at))
    if args.json:
        print(json.dumps(explanation.as_json(), indent=2))
    else:
        print(render(explanation, line=args.line, station=args.station, call_type=args.call_type))
    return 0


def _policy(config: HubConfig, args: argparse.Namespace) -> PolicyConfig:
    stations = {(line, station) for _, line, station in config.station_keys()}
    if args.line not in config.line_ids():
        raise ExplainRefused(
            f"unknown line {args.line!r}; expected one of: {_list(config.line_ids())}"
        )
    if (args.line, args.station) not in stations:
        known = {station for line, station in stations if line == args.line}
        raise ExplainRefused(
            f"unknown station {args.station!r} on line {args.line!r}; "
            f"expected one of: {_list(known)}"
        )
    if args.call_type not in config.call_type_ids:
        raise ExplainRefused(
            f"unknown call type {args.call_type!r}; expected one of: "
            f"{', '.join(config.call_type_ids)}"
        )
    policy = None
    if config.escalation is not None:
        policy = config.escalation.policy_for(call_type=args.call_type, line=args.line)
    if policy is None:
        raise ExplainRefused(
            f"no escalation policy matches a {args.call_type!r} call on line {args.line!r}: "
            "nobody would be told"
        )
    return policy


def _moment(text: str, config: HubConfig, policy: PolicyConfig) -> datetime:
    from zoneinfo import ZoneInfo

    from hub.escalation.explain import policy_rosters

    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ExplainRefused(
            f"--at: expected an ISO 8601 time such as 2026-12-01T09:30; got {text!r}"
        ) from None
    if at.tzinfo is not None:
        return at
    zones = sorted({roster.timezone for roster in policy_rosters(policy, config)})
    if len(zones) > 1:
        raise ExplainRefused(
            f"--at {text!r} has no UTC offset and policy {policy.id!r} names rosters in "
            f"several time zones ({', '.join(zones)}); add an offset such as +08:00 or Z"
        )
    # A local time in a skipped or repeated hour is read as its first meaning (fold=0).
    return at.replace(tzinfo=ZoneInfo(zones[0]) if zones else UTC)


def _list(values: set[str]) -> str:
    return ", ".join(sorted(values))


def _covers(config: HubConfig, policy: PolicyConfig, at: datetime) -> list[Cover]:
    """The roster overrides that last during the dry run, from the hub's database; none
    (said on stderr) when there is no database yet or it cannot be read."""
    from datetime import timedelta

    from sqlalchemy.exc import SQLAlchemyError

    from contract.secrets import SecretMissing
    from hub.db.engine import database_url, open_engine
    from hub.escalation.explain import REPEAT_HORIZON_S
    from hub.shifts.override_rows import covers_during

    if config.storage.url is None and not config.storage.path.exists():
        return []
    last = max([REPEAT_HORIZON_S, *(level.after_s for level in policy.levels)])
    try:
        engine = open_engine(database_url(config.storage))
    except SecretMissing as exc:
        print(f"roster overrides not read: {exc}", file=sys.stderr)
        return []
    try:
        with engine.connect() as conn:
            return covers_during(conn, at, at + timedelta(seconds=last))
    except SQLAlchemyError as exc:
        reason = str(exc).splitlines()[0]
        print(f"roster overrides not read from the hub's database: {reason}", file=sys.stderr)
        return []
    finally:
        engine.dispose()
