"""/api/anomalies and /api/devices: what the edges report besides calls; a call raised
for an anomaly."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from contract.bounds import Id32, Text
from contract.wire import utc_now
from hub.access.permissions import Permission
from hub.api.auth import Principal, allowed
from hub.api.calls import call_out
from hub.api.dependencies import ChangesDep, LiveConfigDep, StoreDep
from hub.api.parameters import Cursor, Word
from hub.api.schemas import AnomalyOut, AnomalyPage, CallOut, DeviceOut, DevicePage
from hub.calls.lifecycle import Actor, Source
from hub.calls.news import CallChange
from hub.calls.repository import NewCall
from hub.config.escalation import EscalationConfig
from hub.db.paging import DEFAULT_PAGE, MAX_PAGE, split_page
from hub.db.tables import anomalies, devices
from hub.escalation.snapshot import snapshots_from

router = APIRouter(tags=["edges"])


@router.get("/api/anomalies")
def list_anomalies(
    store: StoreDep,
    *,
    who: Annotated[Principal, allowed(Permission.READ)],
    line: Word | None = None,
    station: Word | None = None,
    characteristic: Word | None = None,
    cursor: Cursor | None = None,
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
        query = query.where(anomalies.c.id < cursor)
    with store.read() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    page, next_cursor = split_page(rows, limit, lambda row: str(row["id"]))
    return AnomalyPage(
        anomalies=[AnomalyOut.model_validate(row) for row in page], next_cursor=next_cursor
    )


@router.post(
    "/api/anomalies/{anomaly_id}/call",
    status_code=201,
    responses={404: {"description": "no such anomaly"}, 409: {"description": "unknown type"}},
)
def raise_anomaly_call(
    store: StoreDep,
    config: LiveConfigDep,
    changes: ChangesDep,
    anomaly_id: Id32,
    who: Annotated[Principal, allowed(Permission.RAISE)],
) -> CallOut:
    """Raise a call for an SPC anomaly: of the call type ``escalation.anomaly_call_type``
    (``quality``) at its station, carrying its characteristic and part, so the call shows
    how earlier calls on the same characteristic were fixed. A call of that type already
    open at the station is joined (and keeps what it carries)."""
    with store.read() as conn:
        row = conn.execute(select(anomalies).where(anomalies.c.id == anomaly_id)).first()
    if row is None:
        raise HTTPException(404, f"no anomaly {anomaly_id}")
    who.check_line(row.line)
    hub = config.current
    wanted = (hub.escalation or EscalationConfig()).anomaly_call_type
    call_type = hub.call_type(wanted)
    if call_type is None:
        raise HTTPException(409, f"the anomaly call type {wanted!r} is not in the file")
    if (row.area, row.line, row.station) not in hub.station_keys():
        raise HTTPException(409, f"no station {row.area}/{row.line}/{row.station} in the file")
    where = NewCall(
        site=row.site, area=row.area, line=row.line, station=row.station,
        call_type=call_type.id, needs_verification=call_type.verify,
        characteristic=row.characteristic, part_serial=row.part_serial, part_lot=row.part_lot,
    )  # fmt: skip
    now = utc_now()
    call, new = store.raise_call(
        call=where,
        actor=Actor(who.name, Source.API),
        now=now,
        snapshot_for=snapshots_from(hub),
        recurrence_window=hub.recurrence_window,
    )
    action = "raised" if new else "joined"
    changes.announce(CallChange(call.id, call.area, call.line, call.station, action))
    return call_out(call, now)


@router.get("/api/devices")
def list_devices(
    store: StoreDep,
    who: Annotated[Principal, allowed(Permission.READ)],
    cursor: Annotated[Text | None, Query(max_length=140)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
) -> DevicePage:
    """The devices edges poll, as their edges last reported them (edge/device order); a
    token limited to lines reads the devices of those lines' edges."""
    query = select(devices).order_by(devices.c.edge_id, devices.c.device).limit(limit + 1)
    if who.lines:
        query = query.where(devices.c.line.in_(who.lines))
    if cursor is not None:
        edge_id, _, device = cursor.partition("/")
        query = query.where(
            (devices.c.edge_id > edge_id)
            | ((devices.c.edge_id == edge_id) & (devices.c.device > device))
        )
    with store.read() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    page, next_cursor = split_page(rows, limit, lambda row: f"{row['edge_id']}/{row['device']}")
    return DevicePage(
        devices=[DeviceOut.model_validate(row) for row in page], next_cursor=next_cursor
    )
