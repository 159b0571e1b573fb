"""Sign-ins: a bearer token for one shift, made when a person signs in, ended by signing
out, by its expiry, or by the account's new password or disabling.

The token is made and kept as API tokens are (hub/access/tokens.py: 256 random bits, only
the SHA-256 stored), and the API takes it like any other; the holder it names is the
account's person (or the account), so calls, the audit log and reports name people.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from hub.access.accounts import Account
from hub.access.audit import audit_row, record_audit
from hub.access.permissions import Role
from hub.access.tokens import TOKEN_PREFIX, TokenInfo, TokenStore, hash_token
from hub.db.tables import accounts, sign_ins
from hub.db.transactions import Database


@dataclass(frozen=True)
class SignIn:
    token: str
    expires_at: datetime


class SignIns:
    """Start, end and look up sign-ins in the hub's database."""

    def __init__(self, store: Database) -> None:
        self.store = store

    def start(
        self, account: Account, *, hours: float, address: str | None, now: datetime
    ) -> SignIn:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires_at = now + timedelta(hours=hours)
        with self.store.write() as conn:
            conn.execute(
                insert(sign_ins).values(
                    account=account.name, token_hash=hash_token(token), started_at=now,
                    expires_at=expires_at,
                )
            )  # fmt: skip
            detail = {"source": str(account.source), "address": address}
            record_audit(
                conn, audit_row(now, account.actor, "signed_in", f"account:{account.name}", detail)
            )
        return SignIn(token, expires_at)

    def end(self, token: str, *, now: datetime) -> bool:
        """End the sign-in of ``token``; False when it is not an active sign-in's."""
        with self.store.write() as conn:
            row = conn.execute(
                select(sign_ins.c.account, accounts.c.person)
                .join(accounts, accounts.c.name == sign_ins.c.account)
                .where(sign_ins.c.token_hash == hash_token(token), sign_ins.c.ended_at.is_(None))
            ).first()
            if row is None:
                return False
            conn.execute(
                update(sign_ins)
                .where(sign_ins.c.token_hash == hash_token(token))
                .values(ended_at=now)
            )
            actor = row.person or row.account
            record_audit(conn, audit_row(now, actor, "signed_out", f"account:{row.account}", {}))
        return True

    def lookup(self, token: str, now: datetime) -> TokenInfo | None:
        """The holder of an active, unexpired sign-in of an enabled account, or None."""
        with self.store.read() as conn:
            row = conn.execute(
                select(accounts, sign_ins.c.started_at, sign_ins.c.expires_at)
                .join(sign_ins, sign_ins.c.account == accounts.c.name)
                .where(
                    sign_ins.c.token_hash == hash_token(token),
                    sign_ins.c.ended_at.is_(None),
                    sign_ins.c.expires_at > now,
                    accounts.c.disabled_at.is_(None),
                )
            ).first()
        if row is None:
            return None
        return TokenInfo(
            name=row.person or row.name, role=Role(row.role), lines=tuple(row.lines),
            created_at=row.started_at, revoked_at=None, account=row.name,
            expires_at=row.expires_at,
        )  # fmt: skip


def holder_of(store: Database, token: str, now: datetime) -> TokenInfo | None:
    """Whoever holds ``token``: an API token's name, or a signed-in person."""
    return TokenStore(store).lookup(token) or SignIns(store).lookup(token, now)
