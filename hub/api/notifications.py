"""/api/calls/{id}/notifications: the delivery log of a call, every attempt in order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException

from contract.bounds import Id32
from hub.access.permissions import Permission
from hub.api.auth import Principal, allowed
from hub.api.dependencies import StoreDep
from hub.api.schemas import NotificationOut, NotificationPage
from hub.calls.repository import CallNotFound
from hub.escalation import deliveries

router = APIRouter(prefix="/api/calls", tags=["calls"])


@router.get("/{call_id}/notifications", responses={404: {"description": "no such call"}})
def call_notifications(
    store: StoreDep, call_id: Id32, who: Annotated[Principal, allowed(Permission.READ)]
) -> NotificationPage:
    """Who was told about the call, through which channel (redacted), and what happened."""
    try:
        call = store.get_call(call_id)
    except CallNotFound:
        raise HTTPException(404, f"no call {call_id}") from None
    who.check_line(call.line)
    with store.read() as conn:
        rows = deliveries.for_call(conn, call_id)
    return NotificationPage(notifications=[NotificationOut.model_validate(r) for r in rows])
