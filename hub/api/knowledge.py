"""/api/calls/{id}/suggestions: how calls like this one were fixed (hub/reports/knowledge.py)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException

from contract.bounds import Id32
from hub.access.permissions import Permission
from hub.api.auth import Principal, allowed
from hub.api.dependencies import StoreDep
from hub.calls.repository import CallNotFound
from hub.reports.knowledge import suggestions

router = APIRouter(prefix="/api/calls", tags=["calls"])


@router.get("/{call_id}/suggestions", responses={404: {"description": "no such call"}})
async def call_suggestions(
    store: StoreDep, call_id: Id32, who: Annotated[Principal, allowed(Permission.READ)]
) -> dict[str, Any]:
    """The most frequent reason codes and the most recent fixes (reason, note, part) of
    resolved calls at the same station and of the same call type; for a call raised for
    an SPC anomaly, also ``same_characteristic``: those of earlier calls on its
    characteristic at any station of the lines the token may read (null otherwise)."""
    try:
        call = await asyncio.to_thread(store.get_call, call_id)
    except CallNotFound:
        raise HTTPException(404, f"no call {call_id}") from None
    who.check_line(call.line)
    found = await asyncio.to_thread(lambda: suggestions(store, call, lines=who.lines))
    return {
        "call_id": call.id,
        "station": call.station,
        "line": call.line,
        "call_type": call.call_type,
        **asdict(found),
    }
