"""Rows written with a call: the call itself and the entries of its timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from hub.calls.lifecycle import Actor, CallState
from hub.db.tables import calls


def insert_call(conn: Connection, *, values: dict[str, Any]) -> int:
    row = {"state": CallState.RAISED, "presses": 1, **values}
    call_id = conn.execute(insert(calls).values(row).returning(calls.c.id)).scalar_one()
    return int(call_id)


def timeline_row(
    call_id: int,
    *,
    at: datetime,
    action: str,
    state: CallState,
    actor: Actor,
    detail: dict[str, Any],
) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "at": at,
        "action": action,
        "state": state,
        "actor": actor.name,
        "source": actor.source,
        "detail": detail,
    }
