"""/api/anomalies and /api/devices: what the edges report besides calls."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from hub.access import Permission
from hub.api.auth import Principal, allowed
from hub.queries import DEFAULT_PAGE, MAX_PAGE, split_page
from hub.schemas import AnomalyOut, AnomalyPage, DeviceOut, DevicePage
from hub.store import Store
from hub.tables import anomalies, devices

router = APIRouter(tags=["edges"])


@router.get("/api/anomalies")
def list_anomalies(
    request: Request,
    *,
    who: Annotated[Principal, allowed(Permission.READ)],
    line: Annotated[str | None, Query()] = None,
    station: Annotated[str | None, Query()] = None,
    characteristic: Annotated[str | None, Query()] = None,
    cursor: Annotated[str | None, Query(pattern=r"^\d{1,19}$")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
) -> AnomalyPage:
    """SPC anomalies from the edges, newest first, a page at a time."""
    if line is not None:
        who.check_line(line)
    query = select(anomalies).order_by(anomalies.c.id.desc()).limit(limit + 1)
    for column, value in (
        (anomalies.c.line, line),
        (anomalies.c.station, station),
        (anomalies.c.characteristic, characteristic),
    ):
        if value is not None:
            query = query.where(column == value)
    if who.lines:
        query = query.where(anomalies.c.line.in_(who.lines))
    if cursor is not None:
        query = query.where(anomalies.c.id < int(cursor))
    store: Store = request.app.state.store
    with store.read() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    page, next_cursor = split_page(rows, limit, lambda row: str(row["id"]))
    return AnomalyPage(
        anomalies=[AnomalyOut.model_validate(row) for row in page], next_cursor=next_cursor
    )


@router.get("/api/devices")
def list_devices(
    request: Request,
    _who: Annotated[Principal, allowed(Permission.READ)],
    cursor: Annotated[str | None, Query(max_length=140)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
) -> DevicePage:
    """The devices edges poll, as their edges last reported them (edge/device order)."""
    query = select(devices).order_by(devices.c.edge_id, devices.c.device).limit(limit + 1)
    if cursor is not None:
        edge_id, _, device = cursor.partition("/")
        query = query.where(
            (devices.c.edge_id > edge_id)
            | ((devices.c.edge_id == edge_id) & (devices.c.device > device))
        )
    store: Store = request.app.state.store
    with store.read() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    page, next_cursor = split_page(rows, limit, lambda row: f"{row['edge_id']}/{row['device']}")
    return DevicePage(
        devices=[DeviceOut.model_validate(row) for row in page], next_cursor=next_cursor
    )
