"""People's accounts: local ones (name, role, lines, an argon2id hash) made with ``andon
user`` or /api/admin/users, and the directory's, recorded at each sign-in the directory
vouched for. An account may name its ``people:`` entry, so what it does is done by the
person the escalation knows."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hub.access.audit import audit_row, record_audit
from hub.access.passwords import hash_password
from hub.access.permissions import LINE_ROLES, Role
from hub.config.file import HubConfig
from hub.db.tables import accounts, sign_ins
from hub.db.transactions import Database

# Names people sign in with: a directory's (li.wei, li-wei@plant.lan) or the hub's own.
ACCOUNT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"


class AccountSource(StrEnum):
    LOCAL = "local"
    LDAP = "ldap"


class AccountNameTaken(ValueError):
    """An account of that name exists (disabled ones keep their names, for the audit)."""


class AccountRefused(ValueError):
    """An account that must not exist: a site-wide role limited to lines."""


class AccountNotFound(LookupError):
    """No enabled local account has that name."""


@dataclass(frozen=True)
class Account:
    name: str
    role: Role
    lines: tuple[str, ...]
    person: str | None
    source: AccountSource
    created_at: datetime
    disabled_at: datetime | None
    password_hash: str | None

    @classmethod
    def from_row(cls, row: Any) -> Account:
        return cls(
            name=row.name,
            role=Role(row.role),
            lines=tuple(row.lines),
            person=row.person,
            source=AccountSource(row.source),
            created_at=row.created_at,
            disabled_at=row.disabled_at,
            password_hash=row.password_hash,
        )

    @property
    def actor(self) -> str:
        """The name its actions are recorded under: its person's id, else its own."""
        return self.person or self.name


def check_role_lines(role: Role, lines: Sequence[str]) -> None:
    if lines and role not in LINE_ROLES:
        raise AccountRefused(f"a {role} is for the whole site; the account cannot have lines")


class AccountStore:
    """Create, list, change and disable accounts in the hub's database."""

    def __init__(self, store: Database) -> None:
        self.store = store

    def create(
        self,
        *,
        name: str,
        role: Role,
        lines: Sequence[str],
        person: str | None,
        password: str,
        actor: str,
        now: datetime,
    ) -> Account:
        check_role_lines(role, lines)
        values = {
            "name": name, "role": str(role), "lines": list(lines), "person": person,
            "source": str(AccountSource.LOCAL), "password_hash": hash_password(password),
            "created_at": now,
        }  # fmt: skip
        detail = {"role": str(role), "lines": list(lines), "person": person}
        try:
            with self.store.write() as conn:
                conn.execute(insert(accounts).values(values))
                record_audit(
                    conn, audit_row(now, actor, "account.created", f"account:{name}", detail)
                )
        except IntegrityError:
            raise AccountNameTaken(f"an account named {name!r} exists already") from None
        return Account.from_row(_Row({**values, "disabled_at": None}))

    def set_password(self, name: str, password: str, *, actor: str, now: datetime) -> None:
        """A new password; the account's sign-ins end (whoever knew the old one is out)."""
        new_hash = hash_password(password)
        with self.store.write() as conn:
            _change(conn, name, local_only=True, password_hash=new_hash)
            _end_sign_ins(conn, name, now)
            record_audit(conn, audit_row(now, actor, "account.password", f"account:{name}", {}))

    def disable(self, name: str, *, actor: str, now: datetime) -> None:
        """The account can no longer sign in, and its sign-ins end at once."""
        with self.store.write() as conn:
            _change(conn, name, local_only=False, disabled_at=now)
            _end_sign_ins(conn, name, now)
            record_audit(conn, audit_row(now, actor, "account.disabled", f"account:{name}", {}))

    def list(self, *, limit: int | None = None) -> list[Account]:
        with self.store.read() as conn:
            rows = conn.execute(select(accounts).order_by(accounts.c.name).limit(limit)).all()
        return [Account.from_row(row) for row in rows]

    def find(self, name: str) -> Account | None:
        with self.store.read() as conn:
            row = conn.execute(select(accounts).where(accounts.c.name == name)).first()
        return None if row is None else Account.from_row(row)

    def vouched(
        self, *, name: str, role: Role, lines: Sequence[str], now: datetime
    ) -> Account | None:
        """The directory vouched for ``name``: record its role and lines of this sign-in.

        None when a local account (or a disabled one) holds the name: the directory never
        takes over an account the hub made, nor brings back one an admin disabled."""
        check_role_lines(role, lines)
        with self.store.write() as conn:
            row = conn.execute(select(accounts).where(accounts.c.name == name)).first()
            if row is None:
                conn.execute(
                    insert(accounts).values(
                        name=name, role=str(role), lines=list(lines), person=None,
                        source=str(AccountSource.LDAP), password_hash=None, created_at=now,
                    )
                )  # fmt: skip
            elif row.source != AccountSource.LDAP or row.disabled_at is not None:
                return None
            else:
                conn.execute(
                    update(accounts)
                    .where(accounts.c.name == name)
                    .values(role=str(role), lines=list(lines))
                )
            found = conn.execute(select(accounts).where(accounts.c.name == name)).one()
        return Account.from_row(found)


def unknown_references(config: HubConfig, *, lines: list[str], person: str | None) -> str | None:
    """What an account names that the configuration does not have, as a sentence."""
    unknown_lines = sorted(set(lines) - config.line_ids())
    if unknown_lines:
        return f"no such line: {', '.join(unknown_lines)}"
    if person is not None and person not in {p.id for p in config.people}:
        return f"no person {person!r} in the configuration's people"
    return None


def badge_holders(
    conn: Connection, badges: Mapping[str, str], scanned: Collection[str]
) -> dict[str, str]:
    """Each scanned badge of ``badges`` (badge number -> account) whose account is enabled,
    with the name its arrivals are recorded under (the account's person, else its name)."""
    wanted = {badges[badge] for badge in scanned if badge in badges}
    if not wanted:
        return {}
    rows = conn.execute(
        select(accounts.c.name, accounts.c.person).where(
            accounts.c.name.in_(wanted), accounts.c.disabled_at.is_(None)
        )
    ).all()
    actor = {row.name: row.person or row.name for row in rows}
    return {badge: actor[badges[badge]] for badge in scanned if badges.get(badge) in actor}


class _Row:
    """Attribute access to a dict, for ``Account.from_row`` on values just written."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _change(conn: Connection, name: str, *, local_only: bool, **values: Any) -> None:
    """Change an enabled account (a password: a local one only, the directory keeps the
    others')."""
    query = update(accounts).where(accounts.c.name == name, accounts.c.disabled_at.is_(None))
    if local_only:
        query = query.where(accounts.c.source == str(AccountSource.LOCAL))
    if conn.execute(query.values(**values)).rowcount != 1:
        kind = "local account" if local_only else "account"
        raise AccountNotFound(f"no enabled {kind} named {name!r}")


def _end_sign_ins(conn: Connection, name: str, now: datetime) -> None:
    conn.execute(
        update(sign_ins)
        .where(sign_ins.c.account == name, sign_ins.c.ended_at.is_(None))
        .values(ended_at=now)
    )
