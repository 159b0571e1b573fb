"""/api/roster-overrides: who covers whom for a while (hub/shifts/overrides.py)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from contract.bounds import Id32, Moment
from contract.wire import utc_now
from hub.access.permissions import Permission
from hub.api.auth import Principal, allowed
from hub.api.dependencies import LiveConfigDep, StoreDep
from hub.api.parameters import Word
from hub.api.schemas import OverrideIn, OverrideOut, OverridesOut
from hub.db.paging import MAX_PAGE
from hub.shifts.override_rows import (
    OverrideConflict,
    OverrideNotFound,
    add_override,
    list_overrides,
    remove_override,
)
from hub.shifts.overrides import OverrideRefused, new_override

router = APIRouter(prefix="/api/roster-overrides", tags=["rosters"])


@router.get("")
async def overrides(
    store: StoreDep,
    _who: Annotated[Principal, allowed(Permission.READ)],
    person: Annotated[Word | None, Query(description="covering or covered")] = None,
    since: Annotated[Moment | None, Query(description="ending after; default: now")] = None,
    until: Annotated[Moment | None, Query(description="starting before")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
) -> OverridesOut:
    """Overrides in order of their start: by default those not yet ended."""
    found = await asyncio.to_thread(
        lambda: list_overrides(
            store,
            person=person,
            ending_after=since or utc_now(),
            starting_before=until,
            limit=limit,
        )
    )
    return OverridesOut(overrides=[OverrideOut.model_validate(o) for o in found])


@router.post(
    "",
    status_code=201,
    responses={
        409: {
            "description": "an unknown person, a person covering themselves, a span that "
            "does not end after it starts, lasts more than 31 days or names no such date, "
            "or someone already covers that person for part of it"
        }
    },
)
async def add(
    store: StoreDep,
    config: LiveConfigDep,
    body: OverrideIn,
    who: Annotated[Principal, allowed(Permission.OVERRIDE)],
) -> OverrideOut:
    """``person`` answers instead of ``covers``: the escalation tells them wherever it
    would tell ``covers`` (a roster's shift, its fallback, a policy naming the person).
    A swap is two overrides. Well-formed but refused by the hub's file or the calendar
    (it can change at a reload, as a station can): 409, with the reason."""
    try:
        new = new_override(
            config.current, person=body.person, covers=body.covers, starts=body.starts,
            ends=body.ends, note=body.note,
        )  # fmt: skip
    except OverrideRefused as exc:
        raise HTTPException(409, str(exc)) from None
    try:
        made = await asyncio.to_thread(
            lambda: add_override(store, new, actor=who.name, now=utc_now())
        )
    except OverrideConflict as exc:
        raise HTTPException(409, str(exc)) from None
    return OverrideOut.model_validate(made)


@router.delete("/{override_id}", status_code=204)
async def remove(
    store: StoreDep,
    override_id: Id32,
    who: Annotated[Principal, allowed(Permission.OVERRIDE)],
) -> None:
    """Remove an override, whether it has begun or not; the escalation forgets it at once."""
    try:
        await asyncio.to_thread(
            lambda: remove_override(store, override_id, actor=who.name, now=utc_now())
        )
    except OverrideNotFound as exc:
        raise HTTPException(404, str(exc)) from None
