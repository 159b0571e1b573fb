"""API tokens: created once and shown once; the hub keeps only a SHA-256 hash.

Tokens are 256 random bits, so a plain hash is enough (no password stretching is
needed against guessing), and lookups stay one indexed query per request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.access.audit import audit_row, record_audit
from hub.access.permissions import LINE_ROLES, Role
from hub.db.tables import api_tokens
from hub.db.transactions import Database

TOKEN_PREFIX = "andon_"  # noqa: S105  # a prefix lets secret scanners spot leaked tokens


class TokenNameTaken(ValueError):
    """A token of that name exists (revoked tokens keep their names, for the audit)."""


class TokenRefused(ValueError):
    """A token that must not exist: a site-wide role limited to lines."""


class TokenNotFound(LookupError):
    """No active token has that name."""


@dataclass(frozen=True)
class TokenInfo:
    name: str
    role: Role
    lines: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None
    account: str | None = None  # a sign-in's account (hub/access/sign_ins.py); None: a token
    expires_at: datetime | None = None  # a sign-in's end; an API token lasts until revoked

    @classmethod
    def from_row(cls, row: Any) -> TokenInfo:
        return cls(
            name=row.name,
            role=Role(row.role),
            lines=tuple(row.lines),
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Create, list, revoke and look up tokens in the hub's database."""

    def __init__(self, store: Database) -> None:
        self.store = store

    def create(
        self, *, name: str, role: Role, lines: Sequence[str], actor: str, now: datetime
    ) -> str:
        """A new token; the only time its text exists outside the caller's hands."""
        if lines and role not in LINE_ROLES:
            # An engineer or an admin of one line could reach every line (a token of
            # its own making, a reload): refuse rather than pretend to limit it.
            raise TokenRefused(f"a {role} token is for the whole site; it cannot have lines")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        try:
            with self.store.write() as conn:
                conn.execute(
                    insert(api_tokens).values(
                        name=name,
                        role=role,
                        lines=list(lines),
                        token_hash=hash_token(token),
                        created_at=now,
                    )
                )
                detail = {"role": str(role), "lines": list(lines)}
                record_audit(conn, audit_row(now, actor, "token.created", f"token:{name}", detail))
        except IntegrityError:
            raise TokenNameTaken(f"a token named {name!r} exists already") from None
        return token

    def revoke(self, name: str, *, actor: str, now: datetime) -> None:
        with self.store.write() as conn:
            changed = conn.execute(
                update(api_tokens)
                .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            ).rowcount
            if changed != 1:
                raise TokenNotFound(f"no active token named {name!r}")
            record_audit(conn, audit_row(now, actor, "token.revoked", f"token:{name}", {}))

    def list(self, *, limit: int | None = None) -> list[TokenInfo]:
        with self.store.read() as conn:
            query = select(api_tokens).order_by(api_tokens.c.name).limit(limit)
            rows = conn.execute(query).all()
        return [TokenInfo.from_row(row) for row in rows]

    def lookup(self, token: str) -> TokenInfo | None:
        """The active token with this text, or None."""
        with self.store.read() as conn:
            row = conn.execute(
                select(api_tokens).where(
                    api_tokens.c.token_hash == hash_token(token),
                    api_tokens.c.revoked_at.is_(None),
                )
            ).first()
        return None if row is None else TokenInfo.from_row(row)
