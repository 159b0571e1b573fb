"""The delivery log: every attempt of every message, recorded before it is tried.

A message is queued in the transaction that decides it is due; a sender claims it
(``sending``, with a lease) before it sends, and records the outcome after. An attempt
still ``sending`` when its lease has run out was cut off (the hub died mid-send): it is
marked ``unknown`` and tried again, with the same idempotency key where the channel
carries one. Several hubs may send from one database: a claim is a conditional update,
so each attempt has one sender.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from contract.secrets import redact_url
from hub.db.tables import notifications
from hub.escalation.channels import has_idempotency_key
from hub.escalation.notices import Notice, Outgoing

QUEUED, SENDING, SENT, FAILED, UNKNOWN = "queued", "sending", "sent", "failed", "unknown"


def queue(conn: Connection, notices: list[Notice], now: datetime) -> int:
    """Record each notice's attempts as queued; the number of rows written."""
    rows = [_row(notice, out, now, status=QUEUED) for notice in notices for out in notice.outgoing]
    if rows:
        conn.execute(insert(notifications), rows)
    return len(rows)


def _row(notice: Notice, out: Outgoing, now: datetime, *, status: str) -> dict[str, Any]:
    return {
        "key": out.key,
        "attempt": out.attempt,
        "call_id": notice.call_id,
        "alarm_group": notice.alarm_group,
        "level": notice.level,
        "step_s": notice.step_s,
        "person": out.recipient.person,
        "via": out.recipient.via,
        "channel": redact_url(out.recipient.url),
        "url": out.recipient.url,
        "body": out.body,
        "status": status,
        "error": None,
        "created_at": now,
        "retry_at": out.retry_at,
    }


def queued_ids(conn: Connection, limit: int) -> list[int]:
    rows = conn.execute(
        select(notifications.c.id)
        .where(notifications.c.status == QUEUED)
        .order_by(notifications.c.id)
        .limit(limit)
    )
    return [int(r) for r in rows.scalars()]


def claim(conn: Connection, row_id: int, now: datetime, lease_s: float) -> dict[str, Any] | None:
    """The attempt, now ``sending`` and ours until the lease ends; None if another took it."""
    changed = conn.execute(
        update(notifications)
        .where(notifications.c.id == row_id, notifications.c.status == QUEUED)
        .values(status=SENDING, started_at=now, lease_until=now + timedelta(seconds=lease_s))
    ).rowcount
    if changed != 1:
        return None
    row = conn.execute(select(notifications).where(notifications.c.id == row_id)).mappings().one()
    return dict(row)


def finish(
    conn: Connection,
    row_id: int,
    now: datetime,
    *,
    error: str | None,
    retry_at: datetime | None = None,
) -> None:
    conn.execute(
        update(notifications)
        .where(notifications.c.id == row_id)
        .values(
            status=SENT if error is None else FAILED,
            error=error,
            finished_at=now,
            lease_until=None,
            retry_at=retry_at,
        )
    )


def requeue_due_retries(conn: Connection, now: datetime) -> int:
    """Queue the next attempt of every failed one whose retry time has come."""
    rows = (
        conn.execute(
            select(notifications)
            .where(notifications.c.status == FAILED, notifications.c.retry_at <= now)
            .with_for_update(skip_locked=True)
        )
        .mappings()
        .all()
    )
    for row in rows:
        _next_attempt(conn, dict(row), now)
    return len(rows)


def resolve_cut_off(conn: Connection, now: datetime) -> int:
    """Attempts whose sender vanished mid-send: marked unknown, and tried once more."""
    rows = (
        conn.execute(
            select(notifications)
            .where(notifications.c.status == SENDING, notifications.c.lease_until < now)
            .with_for_update(skip_locked=True)
        )
        .mappings()
        .all()
    )
    for row in rows:
        same_key = has_idempotency_key(str(row["url"]))
        note = (
            "the hub stopped during this attempt; sent again with the same idempotency key"
            if same_key
            else "the hub stopped during this attempt; sent again (this channel carries no "
            "idempotency key, so it may arrive twice)"
        )
        conn.execute(
            update(notifications)
            .where(notifications.c.id == row["id"])
            .values(status=UNKNOWN, error=note, finished_at=now, lease_until=None)
        )
        _next_attempt(conn, dict(row), now)
    return len(rows)


def _next_attempt(conn: Connection, row: dict[str, Any], now: datetime) -> None:
    conn.execute(update(notifications).where(notifications.c.id == row["id"]).values(retry_at=None))
    fresh = {
        k: v
        for k, v in row.items()
        if k not in ("id", "started_at", "finished_at", "lease_until", "retry_at", "error")
    }
    fresh.update(attempt=row["attempt"] + 1, status=QUEUED, created_at=now)
    conn.execute(insert(notifications).values(fresh))


def queued_keys(conn: Connection, call_ids: list[int]) -> set[str]:
    """The notice keys (a step of a call) already in the log for these calls."""
    if not call_ids:
        return set()
    keys = conn.execute(
        select(notifications.c.key).where(notifications.c.call_id.in_(call_ids)).distinct()
    ).scalars()
    return {key.rpartition(":")[0] for key in keys}


def told_people(conn: Connection, call_ids: list[int]) -> dict[int, list[str]]:
    """The people already sent a message about each call, in the order they were told."""
    told: dict[int, list[str]] = {}
    if not call_ids:
        return told
    rows = conn.execute(
        select(notifications.c.call_id, notifications.c.person)
        .where(notifications.c.call_id.in_(call_ids), notifications.c.person.is_not(None))
        .order_by(notifications.c.id)
    ).all()
    for call_id, person in rows:
        names = told.setdefault(int(call_id), [])
        if person not in names:
            names.append(str(person))
    return told


def for_call(conn: Connection, call_id: int) -> list[dict[str, Any]]:
    """The call's delivery log, oldest first, without the unredacted URL."""
    columns = [c for c in notifications.c if c.name not in ("url", "lease_until")]
    rows = conn.execute(
        select(*columns).where(notifications.c.call_id == call_id).order_by(notifications.c.id)
    ).mappings()
    return [dict(row) for row in rows]
