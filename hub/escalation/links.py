"""Signed one-use acknowledgement links: ``/ack/<token>`` acknowledges a call as a person.

The token is ``payload.signature``, both base64url: the payload names the call, the
person, a random nonce and the expiry; the signature is HMAC-SHA256 over the payload
with the hub's link key (kept in the database, so every hub of a site shares it). A
used nonce is recorded; a tampered, expired or used link is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hub.db.tables import ack_links_used, hub_state

LINK_KEY = "ack_link_key"


class LinkRefused(ValueError):
    """The link is not valid: ``reason`` is tampered, expired or used; an expired link
    says when (``expires_at``), so a page can tell it in the person's language."""

    def __init__(self, reason: str, message: str, *, expires_at: datetime | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.expires_at = expires_at


@dataclass(frozen=True)
class AckLink:
    call_id: int
    person: str
    nonce: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(key: bytes, *, call_id: int, person: str, expires_at: datetime) -> str:
    payload = {
        "c": call_id,
        "p": person,
        "n": secrets.token_urlsafe(12),
        "e": int(expires_at.timestamp()),
    }
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    signature = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}"


def read_token(key: bytes, token: str, *, now: datetime) -> AckLink:
    """The link's content, or LinkRefused when it is tampered with or expired."""
    body, _, signature = token.partition(".")
    expected = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
    given = signature.encode("utf-8", "surrogatepass")
    if not signature or not hmac.compare_digest(given, expected.encode()):
        raise LinkRefused("tampered", "This link is not valid: it was changed or cut short.")
    payload = json.loads(_unb64(body))
    link = AckLink(
        call_id=int(payload["c"]),
        person=str(payload["p"]),
        nonce=str(payload["n"]),
        expires_at=datetime.fromtimestamp(int(payload["e"]), UTC),
    )
    if now >= link.expires_at:
        raise LinkRefused(
            "expired",
            f"This link expired at {link.expires_at:%Y-%m-%d %H:%M} UTC.",
            expires_at=link.expires_at,
        )
    return link


def use_once(conn: Connection, link: AckLink, now: datetime) -> None:
    """Record the link as used in the caller's transaction; LinkRefused if it was."""
    try:
        with conn.begin_nested():
            conn.execute(
                insert(ack_links_used).values(
                    nonce=link.nonce, call_id=link.call_id, person=link.person, used_at=now
                )
            )
    except IntegrityError:
        raise LinkRefused("used", "This link was already used.") from None


def link_key(conn: Connection) -> bytes:
    """The site's link key, made on first use (two hubs starting at once agree on one)."""
    found = conn.execute(select(hub_state.c.value).where(hub_state.c.name == LINK_KEY)).scalar()
    if found is None:
        try:
            with conn.begin_nested():
                conn.execute(insert(hub_state).values(name=LINK_KEY, value=secrets.token_hex(32)))
        except IntegrityError:
            pass
        found = conn.execute(
            select(hub_state.c.value).where(hub_state.c.name == LINK_KEY)
        ).scalar_one()
    return bytes.fromhex(str(found))


@dataclass(frozen=True)
class LinkMaker:
    """Makes the acknowledgement links of one pass, all expiring ``ttl_s`` after ``now``."""

    key: bytes
    base_url: str
    ttl_s: int
    now: datetime

    def __call__(self, call_id: int, person: str) -> str:
        expires = self.now + timedelta(seconds=self.ttl_s)
        token = make_token(self.key, call_id=call_id, person=person, expires_at=expires)
        return f"{self.base_url}/ack/{token}"
