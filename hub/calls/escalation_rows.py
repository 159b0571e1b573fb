"""Escalation rows written in the transactions that raise and move calls.

A call that is raised gets its row in the same transaction (so a raised call can never
lack its escalation); an acknowledgement pauses it until ``ack_timeout_s``, an arrival
stops the paging, and resolve or cancel stop everything, line stop included.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from hub.db.tables import escalations

ACTIVE = "active"
ACK_WAIT = "ack_wait"  # acknowledged: resumes at due_at unless the responder arrives
STOPPED = "stopped"


def escalation_row(call_id: int, snapshot: dict[str, Any], raised_at: datetime) -> dict[str, Any]:
    """The row of a call raised at ``raised_at`` (the hub's clock) under ``snapshot``."""
    policy = snapshot["policy"]
    first = min(level["after_s"] for level in policy["levels"])
    line_stop = policy.get("line_stop_after_s")
    return {
        "call_id": call_id,
        "policy_id": policy["id"],
        "snapshot": snapshot,
        "status": ACTIVE,
        "base_at": raised_at,
        "last_offset_s": None,
        "due_at": raised_at + timedelta(seconds=first),
        "ack_timeout_s": policy["ack_timeout_s"],
        "line_stop_due_at": (
            raised_at + timedelta(seconds=line_stop) if line_stop is not None else None
        ),
        "resumed": False,
        "stop_reason": None,
    }


def insert_escalations(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(escalations), rows)


def on_transition(conn: Connection, call_id: int, action: str, now: datetime) -> None:
    """Adjust the call's escalation for a lifecycle ``action`` in the caller's transaction."""
    if action == "acknowledge":
        timeout = conn.execute(
            select(escalations.c.ack_timeout_s).where(
                escalations.c.call_id == call_id, escalations.c.status == ACTIVE
            )
        ).scalar()
        if timeout is not None:
            conn.execute(
                update(escalations)
                .where(escalations.c.call_id == call_id)
                .values(status=ACK_WAIT, due_at=now + timedelta(seconds=int(timeout)))
            )
    elif action == "arrive":
        stop_paging(conn, [call_id], reason="arrived")
    elif action in ("resolve", "cancel", "verify"):
        conn.execute(
            update(escalations)
            .where(escalations.c.call_id == call_id)
            .values(status=STOPPED, due_at=None, line_stop_due_at=None, stop_reason=action)
        )


def stop_paging(conn: Connection, call_ids: Iterable[int], *, reason: str) -> None:
    """No more steps for these calls; a line stop still falls due while they are open."""
    ids = list(call_ids)
    if ids:
        conn.execute(
            update(escalations)
            .where(escalations.c.call_id.in_(ids), escalations.c.status != STOPPED)
            .values(status=STOPPED, due_at=None, stop_reason=reason)
        )
