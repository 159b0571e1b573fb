"""/api/downtime: machines' downtime periods and planned stops, a page at a time, and a
period given its reason by a responder or an engineer."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from contract.bounds import Moment
from contract.wire import utc_now
from hub.access.permissions import Permission
from hub.api.auth import Principal, allowed
from hub.api.dependencies import LiveConfigDep, StoreDep
from hub.api.machine_schemas import DowntimeOut, DowntimePage, DowntimeReasonIn, MachineStateOut
from hub.api.parameters import Cursor, Word, Words
from hub.db.paging import DEFAULT_PAGE, MAX_PAGE, split_page
from hub.machines.periods import (
    Period,
    PeriodNotFound,
    ReasonRefused,
    current_states,
    downtime_page,
    give_reason,
)

router = APIRouter(tags=["machines"])

# Without since or until, the list reaches back to the beginning and on to now.
_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


def _out(period: Period) -> DowntimeOut:
    return DowntimeOut(
        id=period.id, line=period.line, station=period.station, state=period.state,
        start=period.start, end=period.end, seconds=period.seconds, reason=period.reason,
        fault_code=period.fault_code, call_id=period.call_id,
    )  # fmt: skip


@router.get("/api/downtime")
async def list_downtime(
    store: StoreDep,
    config: LiveConfigDep,
    *,
    who: Annotated[Principal, allowed(Permission.READ)],
    line: Word | None = None,
    station: Word | None = None,
    since: Annotated[Moment | None, Query(description="periods that end after (ISO 8601)")] = None,
    until: Annotated[Moment | None, Query(description="periods that start before")] = None,
    cursor: Cursor | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
) -> DowntimePage:
    """Every downtime period (a stop of at least ``micro_stop_s``) and planned stop that
    overlaps [since, until), whole, oldest first; one still open once it lasted
    ``micro_stop_s``."""
    if line is not None:
        who.check_line(line)
    lines = [line] if line is not None else list(who.lines)
    now = utc_now()
    rows = await asyncio.to_thread(
        lambda: downtime_page(
            store,
            since=since or _EPOCH,
            until=until or now,
            lines=lines,
            station=station,
            micro_stop_s=config.current.micro_stop_s,
            now=now,
            after=cursor,
            limit=limit,
        )
    )
    page, next_cursor = split_page(rows, limit, lambda period: str(period.id))
    return DowntimePage(periods=[_out(period) for period in page], next_cursor=next_cursor)


@router.post(
    "/api/downtime/{period_id}/reason",
    responses={409: {"description": "an unknown reason, or the period has one already"}},
)
def give_downtime_reason(
    store: StoreDep,
    config: LiveConfigDep,
    period_id: Cursor,
    body: DowntimeReasonIn,
    who: Annotated[Principal, allowed(Permission.DOWNTIME_REASON)],
) -> DowntimeOut:
    """Give a downtime period without a reason its reason (a reason code of the hub's
    file) and a note."""
    hub = config.current
    if body.reason not in hub.reason_code_ids:
        known = ", ".join(hub.reason_code_ids)
        raise HTTPException(409, f"unknown reason {body.reason!r}; expected one of: {known}")
    try:
        period = give_reason(
            store, period_id, reason=body.reason, note=body.note, by=who.name,
            lines=list(who.lines), micro_stop_s=hub.micro_stop_s, now=utc_now(),
        )  # fmt: skip
    except PeriodNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except ReasonRefused as exc:
        raise HTTPException(409, str(exc)) from None
    return _out(period)


@router.get("/api/machines")
def list_machine_states(
    store: StoreDep,
    *,
    who: Annotated[Principal, allowed(Permission.READ)],
    line: Words,
) -> list[MachineStateOut]:
    """Each machine's state now and since when (its edge's clock): the board's tiles."""
    for wanted in line:
        who.check_line(wanted)
    periods = current_states(store, line or list(who.lines))
    return [
        MachineStateOut(
            line=p.line, station=p.station, state=p.state, since=p.start, fault_code=p.fault_code
        )
        for p in periods
    ]
