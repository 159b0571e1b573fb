"""/api/characteristics and /api/quality: what the edges' measurements became at the hub."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from sqlalchemy import Select, Table, select

from contract.bounds import Moment
from hub.access.permissions import Permission
from hub.api.auth import Principal, allowed
from hub.api.dependencies import StoreDep
from hub.api.measurement_schemas import (
    CharacteristicList,
    CharacteristicOut,
    QualityCountOut,
    QualityCounts,
    SpcPointOut,
    SpcPointPage,
)
from hub.api.parameters import BigCursor, Word
from hub.db.paging import DEFAULT_PAGE, MAX_PAGE, split_page
from hub.db.tables import characteristics, quality_counts, spc_points

router = APIRouter(tags=["measurements"])

# At most this many hourly buckets in one answer: a year of one station, a week of 59.
MAX_BUCKETS = 10_000


@router.get("/api/characteristics")
def list_characteristics(
    store: StoreDep,
    *,
    who: Annotated[Principal, allowed(Permission.READ)],
    line: Word | None = None,
    station: Word | None = None,
) -> CharacteristicList:
    """Every characteristic the edges chart, per station, with its newest lines."""
    query = select(characteristics).order_by(
        characteristics.c.characteristic, characteristics.c.line, characteristics.c.station
    )
    query = _at_place(query, characteristics, who=who, line=line, station=station)
    with store.read() as conn:
        rows = [CharacteristicOut.model_validate(dict(r)) for r in conn.execute(query).mappings()]
    return CharacteristicList(characteristics=rows)


@router.get("/api/characteristics/{name}/points")
def list_points(
    store: StoreDep,
    name: Annotated[Word, Path(min_length=1)],
    *,
    who: Annotated[Principal, allowed(Permission.READ)],
    line: Word | None = None,
    station: Word | None = None,
    since: Annotated[Moment | None, Query(description="points of cycles at or after")] = None,
    cursor: BigCursor | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
) -> SpcPointPage:
    """A characteristic's points, oldest first, a page at a time (``next_cursor``)."""
    query = select(spc_points).where(spc_points.c.characteristic == name)
    query = _at_place(query, spc_points, who=who, line=line, station=station)
    if since is not None:
        query = query.where(spc_points.c.at >= since)
    if cursor is not None:
        query = query.where(spc_points.c.id > cursor)
    query = query.order_by(spc_points.c.id).limit(limit + 1)
    with store.read() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    page, next_cursor = split_page(rows, limit, lambda row: str(row["id"]))
    return SpcPointPage(
        points=[SpcPointOut.model_validate(row) for row in page], next_cursor=next_cursor
    )


@router.get("/api/quality/counts")
def quality_count_buckets(
    store: StoreDep,
    *,
    who: Annotated[Principal, allowed(Permission.READ)],
    start: Annotated[Moment, Query(alias="from", description="hours starting at or after")],
    end: Annotated[Moment, Query(alias="to", description="hours starting before")],
    line: Word | None = None,
    station: Word | None = None,
) -> QualityCounts:
    """Parts inspected, defective and reworked per station and hour (UTC)."""
    table = quality_counts
    query = select(table).where(table.c.hour >= start, table.c.hour < end)
    query = _at_place(query, table, who=who, line=line, station=station)
    query = query.order_by(table.c.line, table.c.station, table.c.hour).limit(MAX_BUCKETS + 1)
    with store.read() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    if len(rows) > MAX_BUCKETS:
        raise HTTPException(422, f"more than {MAX_BUCKETS} buckets: ask for a shorter period")
    return QualityCounts(counts=[QualityCountOut.model_validate(row) for row in rows])


def _at_place(
    query: Select[Any], table: Table, *, who: Principal, line: str | None, station: str | None
) -> Select[Any]:
    """``query`` narrowed to a line and station when asked, and always to the token's lines
    (a token bound to other lines asking for one is refused)."""
    if line is not None:
        who.check_line(line)
        query = query.where(table.c.line == line)
    if station is not None:
        query = query.where(table.c.station == station)
    if who.lines:
        query = query.where(table.c.line.in_(who.lines))
    return query
