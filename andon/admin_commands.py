"""``andon db upgrade`` and ``andon token ...``: the hub's database from the command line."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contract.wire import NAME_PATTERN, utc_now
from hub.access.permissions import Role

if TYPE_CHECKING:
    from hub.calls.repository import Store

ACTOR = "command line"


def add_admin_commands(commands: Any) -> None:
    """``db`` and ``token`` subcommands on the ``andon`` parser."""
    db = commands.add_parser("db", help="the hub's database").add_subparsers(
        required=True, metavar="ACTION"
    )
    up = db.add_parser("upgrade", help="bring the schema to this release, in place")
    up.add_argument("--config", type=Path, required=True, help="hub YAML file")
    up.set_defaults(handler=_db_upgrade)

    token = commands.add_parser("token", help="API tokens").add_subparsers(
        required=True, metavar="ACTION"
    )
    create = token.add_parser("create", help="make a token; it is printed once, last")
    create.add_argument("--config", type=Path, required=True, help="hub YAML file")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=[str(role) for role in Role])
    create.add_argument("--line", action="append", default=[], help="limit to a line (repeat)")
    create.set_defaults(handler=_token_create)
    listing = token.add_parser("list", help="every token, revoked ones included")
    listing.add_argument("--config", type=Path, required=True, help="hub YAML file")
    listing.set_defaults(handler=_token_list)
    revoke = token.add_parser("revoke", help="revoke a token by name")
    revoke.add_argument("--config", type=Path, required=True, help="hub YAML file")
    revoke.add_argument("name")
    revoke.set_defaults(handler=_token_revoke)


# The hub's storage (SQLAlchemy, Alembic) is imported by the commands that use it, so
# that every other ``andon`` command (an edge agent on a small line PC) starts without it.


def open_store(config_path: Path) -> Store:
    from hub.calls.repository import Store
    from hub.config.file import load_hub_config
    from hub.db.engine import database_url, open_engine, upgrade

    config = load_hub_config(config_path)
    engine = open_engine(database_url(config.storage))
    upgrade(engine)
    return Store(engine)


def _db_upgrade(args: argparse.Namespace) -> int:
    from hub.config.file import load_hub_config
    from hub.db.engine import database_url, open_engine, upgrade

    config = load_hub_config(args.config)
    engine = open_engine(database_url(config.storage))
    revision = upgrade(engine)
    engine.dispose()
    print(f"database at revision {revision}")
    return 0


def _token_create(args: argparse.Namespace) -> int:
    from hub.access.tokens import TokenNameTaken, TokenRefused, TokenStore
    from hub.config.file import load_hub_config

    if not re.fullmatch(NAME_PATTERN, args.name):
        print(
            f"token name {args.name!r}: expected 1 to 64 letters, digits, '-' or '_'",
            file=sys.stderr,
        )
        return 2
    config = load_hub_config(args.config)
    unknown = sorted(set(args.line) - config.line_ids())
    if unknown:
        print(f"no such line in {args.config}: {', '.join(unknown)}", file=sys.stderr)
        return 2
    tokens = TokenStore(open_store(args.config))
    try:
        token = tokens.create(
            name=args.name, role=Role(args.role), lines=args.line, actor=ACTOR, now=utc_now()
        )
    except TokenNameTaken as exc:
        print(exc, file=sys.stderr)
        return 1
    except TokenRefused as exc:
        print(exc, file=sys.stderr)
        return 2
    lines = ", ".join(args.line) or "all lines"
    print(f"token {args.name!r} ({args.role}, {lines}); it is shown only now:")
    print(token)
    return 0


def _token_list(args: argparse.Namespace) -> int:
    from hub.access.tokens import TokenStore

    for info in TokenStore(open_store(args.config)).list():
        state = f"revoked {info.revoked_at:%Y-%m-%d %H:%M}" if info.revoked_at else "active"
        lines = ",".join(info.lines) or "*"
        print(f"{info.name}\t{info.role}\t{lines}\t{info.created_at:%Y-%m-%d %H:%M}\t{state}")
    return 0


def _token_revoke(args: argparse.Namespace) -> int:
    from hub.access.tokens import TokenNotFound, TokenStore

    try:
        TokenStore(open_store(args.config)).revoke(args.name, actor=ACTOR, now=utc_now())
    except TokenNotFound as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"token {args.name!r} revoked")
    return 0
