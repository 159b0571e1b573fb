"""``andon roster override add|list|remove``: who covers whom, in the hub's database."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contract.wire import utc_now

if TYPE_CHECKING:
    from hub.calls.repository import Store
    from hub.shifts.override_rows import Override

ACTOR = "command line"

ADD_HELP = """\
PERSON answers instead of COVERS from FROM to TO, in the site's time zone (the hub
file's timezone): wherever the escalation would tell COVERS (a roster's shift, its
fallback, a person named by a policy), it tells PERSON. FROM is YYYY-MM-DD HH:MM; TO is
the same, or HH:MM alone: that time the same day, or the next day when it is not later
(--from "2026-12-08 22:00" --to 06:00 ends at 06:00 on the 9th). A swap is two
overrides, one each way."""


def add_roster_commands(commands: Any) -> None:
    """The ``roster override`` subcommands on the ``andon`` parser."""
    roster = commands.add_parser("roster", help="rosters: overrides").add_subparsers(
        required=True, metavar="ACTION"
    )
    override = roster.add_parser("override", help="one person covers another for a while")
    actions = override.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser("add", help="PERSON covers COVERS", description=ADD_HELP)
    add.add_argument("--config", type=Path, required=True, help="hub YAML file")
    add.add_argument("--person", required=True, help="who answers (a people: id)")
    add.add_argument("--covers", required=True, help="for whom (a people: id)")
    add.add_argument("--from", dest="starts", required=True, metavar="FROM")
    add.add_argument("--to", dest="ends", required=True, metavar="TO")
    add.add_argument("--note", default="", help="why, for the list (at most 500 characters)")
    add.set_defaults(handler=_add)
    listing = actions.add_parser("list", help="overrides not yet ended (--all: every one)")
    listing.add_argument("--config", type=Path, required=True, help="hub YAML file")
    listing.add_argument("--person", help="only those this person covers or is covered by")
    listing.add_argument("--all", action="store_true", help="ended ones too")
    listing.set_defaults(handler=_list)
    remove = actions.add_parser("remove", help="remove an override by its id")
    remove.add_argument("--config", type=Path, required=True, help="hub YAML file")
    remove.add_argument("id", type=int)
    remove.set_defaults(handler=_remove)


def _add(args: argparse.Namespace) -> int:
    from hub.config.file import load_hub_config
    from hub.shifts.override_rows import OverrideConflict, add_override
    from hub.shifts.overrides import OverrideRefused, new_override

    config = load_hub_config(args.config)
    if len(args.note) > 500:
        print(f"--note: at most 500 characters; got {len(args.note)}", file=sys.stderr)
        return 2
    try:
        new = new_override(
            config, person=args.person, covers=args.covers, starts=args.starts, ends=args.ends,
            note=args.note,
        )  # fmt: skip
    except OverrideRefused as exc:
        print(f"{args.config}: {exc}", file=sys.stderr)
        return 2
    try:
        with _database(args.config) as db:
            made = add_override(db, new, actor=ACTOR, now=utc_now())
    except OverrideConflict as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"override {made.id}: {_line(made)}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from hub.shifts.override_rows import list_overrides

    with _database(args.config) as db:
        since = None if args.all else utc_now()
        found = list_overrides(db, person=args.person, ending_after=since, limit=10_000)
    for override in found:
        print(f"{override.id}\t{_line(override)}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from hub.shifts.override_rows import OverrideNotFound, remove_override

    try:
        with _database(args.config) as db:
            gone = remove_override(db, args.id, actor=ACTOR, now=utc_now())
    except OverrideNotFound as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"override {gone.id} removed: {_line(gone)}")
    return 0


@contextlib.contextmanager
def _database(config_path: Path) -> Iterator[Store]:
    """The hub's database, brought to this release, and closed after the command."""
    from andon.admin_commands import open_store

    store = open_store(config_path)
    try:
        yield store
    finally:
        store.engine.dispose()


def _line(override: Override) -> str:
    text = (
        f"{override.person} covers {override.covers} from {override.starts_local} to "
        f"{override.ends_local} ({override.timezone})"
    )
    return f"{text}: {override.note}" if override.note else text
