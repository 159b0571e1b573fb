"""/api/reports/oee: availability, performance, quality and OEE per station, line or
shift over a period, from the machines' states and part counts; JSON or CSV."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse, Response

from contract.bounds import Moment
from contract.wire import utc_now
from hub.access.permissions import Permission
from hub.api.auth import Principal, allowed
from hub.api.dependencies import LiveConfigDep, StoreDep
from hub.api.machine_schemas import OeeReport
from hub.api.parameters import Word
from hub.api.reports import DEFAULT_PERIOD
from hub.machines.periods import TooManyRows
from hub.reports.oee import OeeBy, OeeRow, oee_csv, oee_report

router = APIRouter(prefix="/api/reports", tags=["reports"])

OEE_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "model": OeeReport,
        "description": "JSON, or CSV with ``format=csv``",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.get("/oee", response_class=JSONResponse, responses=OEE_ANSWERS)
async def oee(
    store: StoreDep,
    config: LiveConfigDep,
    *,
    who: Annotated[Principal, allowed(Permission.READ)],
    line: Word | None = None,
    station: Word | None = None,
    since: Annotated[
        Moment | None, Query(description="from (ISO 8601); default: a week before until")
    ] = None,
    until: Annotated[Moment | None, Query(description="to, excluded; default: now")] = None,
    by: OeeBy = "station",
    format: Literal["json", "csv"] = "json",  # the query parameter's documented name
) -> Response:
    """OEE and its three factors per station (``by=station``), per line or per station
    and shift, over [since, until): planned time is the time inside the shifts minus
    planned stops; a stop shorter than ``micro_stop_s`` counts as run time (a
    micro-stop). A station without a machine has no row."""
    end = until or utc_now()
    start = since or end - DEFAULT_PERIOD
    if line is not None:
        who.check_line(line)
    lines = [line] if line is not None else list(who.lines)
    hub = config.current
    now = utc_now()

    def compute() -> list[OeeRow]:
        return oee_report(
            store, hub, lines=lines, station=station, since=start, until=end, by=by, now=now
        )

    try:
        rows = await asyncio.to_thread(compute)
    except TooManyRows as exc:
        raise HTTPException(422, str(exc)) from None
    if format == "csv":
        return Response(oee_csv(rows), media_type="text/csv; charset=utf-8")
    bodies = [asdict(row) for row in rows]
    if by != "shift":
        for body in bodies:
            del body["shift"]
    return JSONResponse({"since": start.isoformat(), "until": end.isoformat(), "rows": bodies})
