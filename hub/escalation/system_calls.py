"""Calls the hub raises itself: an edge that went offline, a channel that keeps failing.

They are calls like any other (on the board, acknowledged, resolved), at a station of
the reserved area ``system``, and they escalate to the rosters' fallbacks.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from contract.wire import EDGE_OFFLINE, EDGE_ONLINE
from hub.calls.escalation_rows import escalation_row, insert_escalations, on_transition
from hub.calls.lifecycle import OPEN_STATES, Actor, CallState, Source
from hub.calls.news import CallChange
from hub.calls.rows import insert_call, timeline_row
from hub.calls.station_events import find_open_calls
from hub.config.file import HubConfig
from hub.db.tables import call_events, calls
from hub.escalation.snapshot import fallback_snapshot

log = logging.getLogger(__name__)

SYSTEM_AREA = "system"
EDGES_LINE = "edges"
NOTIFICATIONS_LINE = "notifications"
EDGE_OFFLINE_CALL = "edge_offline"
CHANNEL_FAILING_CALL = "channel_failing"
HUB = Actor("hub", Source.HUB)
# The system's own names in Chinese, for the messages of people who read Chinese.
NAMES_ZH = {
    SYSTEM_AREA: "系统",
    EDGES_LINE: "边缘端",
    NOTIFICATIONS_LINE: "通知",
    EDGE_OFFLINE_CALL: "边缘端离线",
    CHANNEL_FAILING_CALL: "通知渠道持续失败",
}


def raise_system_call(
    conn: Connection,
    config: HubConfig,
    *,
    line: str,
    station: str,
    call_type: str,
    now: datetime,
    detail: dict[str, str],
    rosters: list[str] | None = None,
) -> CallChange | None:
    """Open a system call (None when one is open there already) escalating to fallbacks."""
    key = (config.site, SYSTEM_AREA, line, station, call_type)
    if find_open_calls(conn, {(SYSTEM_AREA, line, station)}).get(key) is not None:
        return None
    call_id = insert_call(
        conn,
        values={
            "site": config.site, "area": SYSTEM_AREA, "line": line, "station": station,
            "call_type": call_type, "first_event_id": f"hub:{uuid.uuid4().hex}",
            "raised_at": now, "received_at": now,
        },
    )  # fmt: skip
    entry = timeline_row(
        call_id, at=now, action="raised", state=CallState.RAISED, actor=HUB, detail=detail
    )
    conn.execute(insert(call_events), [entry])
    names = {"call_type": call_type.replace("_", " "), "area": SYSTEM_AREA, "line": line}
    names["station"] = station
    zh = {key: NAMES_ZH.get(value, value) for key, value in names.items()}
    zh["call_type"] = NAMES_ZH.get(call_type, names["call_type"])
    snapshot = fallback_snapshot(config, names, rosters, {"zh": zh})
    if snapshot is not None:
        insert_escalations(conn, [escalation_row(call_id, snapshot, now)])
    else:
        log.error("system call %s raised, but no roster has a fallback to tell", call_id)
    return CallChange(call_id, SYSTEM_AREA, line, station, "raised")


def edge_status_changed(
    conn: Connection, config: HubConfig, edge_id: str, status: str, now: datetime
) -> CallChange | None:
    """An edge gone offline raises its call; back online, the hub resolves that call."""
    if status == EDGE_OFFLINE:
        return raise_system_call(
            conn, config, line=EDGES_LINE, station=edge_id, call_type=EDGE_OFFLINE_CALL,
            now=now, detail={"edge_id": edge_id, "status": status},
        )  # fmt: skip
    if status != EDGE_ONLINE:
        return None
    open_id = conn.execute(
        select(calls.c.id).where(
            calls.c.area == SYSTEM_AREA,
            calls.c.line == EDGES_LINE,
            calls.c.station == edge_id,
            calls.c.call_type == EDGE_OFFLINE_CALL,
            calls.c.state.in_(OPEN_STATES),
        )
    ).scalar()
    if open_id is None:
        return None
    note = "the edge is back online"
    conn.execute(
        update(calls)
        .where(calls.c.id == open_id)
        .values(state=CallState.RESOLVED, resolved_at=now, note=note)
    )
    entry = timeline_row(
        int(open_id), at=now, action="resolved", state=CallState.RESOLVED, actor=HUB,
        detail={"note": note},
    )  # fmt: skip
    conn.execute(insert(call_events), [entry])
    on_transition(conn, int(open_id), "resolve", now)
    return CallChange(int(open_id), SYSTEM_AREA, EDGES_LINE, edge_id, "resolved")
