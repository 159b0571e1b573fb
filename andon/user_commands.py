"""``andon user ...``: people's accounts from the command line (create, list, passwd,
disable), for the first admin and for plants without a directory."""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from contract.wire import utc_now
from hub.access.permissions import Role

if TYPE_CHECKING:
    from hub.access.accounts import AccountStore

ACTOR = "command line"


class PasswordUnread(ValueError):
    """No password could be read: the two typed differ, or stdin was empty."""


def add_user_commands(commands: Any) -> None:
    """``user`` subcommands on the ``andon`` parser."""
    user = commands.add_parser("user", help="people's accounts").add_subparsers(
        required=True, metavar="ACTION"
    )
    create = user.add_parser(
        "create", help="make a local account; the password is asked (or read from stdin)"
    )
    create.add_argument("--config", type=Path, required=True, help="hub YAML file")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=[str(role) for role in Role])
    create.add_argument("--line", action="append", default=[], help="limit to a line (repeat)")
    create.add_argument("--person", help="the people: id of the escalation configuration")
    create.set_defaults(handler=_create)
    listing = user.add_parser("list", help="every account, disabled ones included")
    listing.add_argument("--config", type=Path, required=True, help="hub YAML file")
    listing.set_defaults(handler=_list)
    passwd = user.add_parser("passwd", help="a new password for a local account")
    passwd.add_argument("--config", type=Path, required=True, help="hub YAML file")
    passwd.add_argument("name")
    passwd.set_defaults(handler=_passwd)
    disable = user.add_parser("disable", help="the account signs in no more; its sessions end")
    disable.add_argument("--config", type=Path, required=True, help="hub YAML file")
    disable.add_argument("name")
    disable.set_defaults(handler=_disable)


def read_password(stdin: TextIO) -> str:
    """Asked twice on a terminal; else the first line of stdin (a script's pipe)."""
    if stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise PasswordUnread("the two passwords differ")
        return first
    line = stdin.readline().rstrip("\r\n")
    if not line:
        raise PasswordUnread("no password on stdin (one line expected)")
    return line


def _accounts(config_path: Path) -> AccountStore:
    from andon.admin_commands import open_store
    from hub.access.accounts import AccountStore

    return AccountStore(open_store(config_path))


def _create(args: argparse.Namespace) -> int:
    from hub.access.accounts import (
        ACCOUNT_NAME_PATTERN,
        AccountNameTaken,
        AccountRefused,
        unknown_references,
    )
    from hub.access.passwords import PasswordRefused, check_new_password
    from hub.config.file import load_hub_config

    if not re.fullmatch(ACCOUNT_NAME_PATTERN, args.name):
        print(f"account name {args.name!r}: expected 1 to 64 letters, digits, '.', '@', "
              "'-' or '_', beginning with a letter or digit", file=sys.stderr)  # fmt: skip
        return 2
    config = load_hub_config(args.config)
    unknown = unknown_references(config, lines=args.line, person=args.person)
    if unknown:
        print(f"{args.config}: {unknown}", file=sys.stderr)
        return 2
    try:
        password = read_password(sys.stdin)
        check_new_password(password)
        _accounts(args.config).create(
            name=args.name, role=Role(args.role), lines=args.line, person=args.person,
            password=password, actor=ACTOR, now=utc_now(),
        )  # fmt: skip
    except (PasswordUnread, PasswordRefused, AccountRefused) as exc:
        print(exc, file=sys.stderr)
        return 2
    except AccountNameTaken as exc:
        print(exc, file=sys.stderr)
        return 1
    lines = ", ".join(args.line) or "all lines"
    person = f", person {args.person}" if args.person else ""
    print(f"account {args.name!r} ({args.role}, {lines}{person})")
    return 0


def _list(args: argparse.Namespace) -> int:
    for account in _accounts(args.config).list():
        state = (
            f"disabled {account.disabled_at:%Y-%m-%d %H:%M}" if account.disabled_at else "active"
        )
        lines = ",".join(account.lines) or "*"
        print(
            f"{account.name}\t{account.role}\t{lines}\t{account.person or '-'}\t"
            f"{account.source}\t{account.created_at:%Y-%m-%d %H:%M}\t{state}"
        )
    return 0


def _passwd(args: argparse.Namespace) -> int:
    from hub.access.accounts import AccountNotFound
    from hub.access.passwords import PasswordRefused

    try:
        password = read_password(sys.stdin)
        _accounts(args.config).set_password(args.name, password, actor=ACTOR, now=utc_now())
    except (PasswordUnread, PasswordRefused) as exc:
        print(exc, file=sys.stderr)
        return 2
    except AccountNotFound as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"password of {args.name!r} changed; its sign-ins ended")
    return 0


def _disable(args: argparse.Namespace) -> int:
    from hub.access.accounts import AccountNotFound

    try:
        _accounts(args.config).disable(args.name, actor=ACTOR, now=utc_now())
    except AccountNotFound as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"account {args.name!r} disabled; its sign-ins ended")
    return 0
