"""The andon board's picture of a moment: a tile per station in its light, and a header.

A tile shows the station's light (rules/lights.py, the same table the tower lights
follow) and its most urgent open call; the header counts open calls, today's calls (the
site's day, ``timezone``) and the median time to respond (to acknowledge) of today's.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from hub.calls.lifecycle import OPEN_STATES
from hub.calls.records import Call, CallFilter
from hub.calls.repository import Store
from hub.config.file import HubConfig
from hub.db.paging import MAX_PAGE
from hub.db.tables import UtcDateTime
from hub.db.tables import calls as calls_table
from hub.shifts.production import start_of_day
from rules.lights import OpenCall, station_light


@dataclass(frozen=True)
class BoardScope:
    """Which stations a board shows: one line, or all; a token's lines bound both."""

    line: str | None
    allowed_lines: Sequence[str]
    language: str

    def shows(self, line: str) -> bool:
        if self.line is not None and line != self.line:
            return False
        return not self.allowed_lines or line in self.allowed_lines

    def query_lines(self) -> list[str]:
        return [self.line] if self.line is not None else list(self.allowed_lines)


def open_calls(store: Store, lines: Sequence[str]) -> list[Call]:
    """Every open call on ``lines`` (empty: all). Bounded: one per station and call type."""
    found: list[Call] = []
    after: int | None = None
    while True:
        page = store.list_calls(
            CallFilter(states=OPEN_STATES, lines=lines, after=after, limit=MAX_PAGE)
        )
        found += page[:MAX_PAGE]
        if len(page) <= MAX_PAGE:
            return found
        after = page[MAX_PAGE - 1].id


def board_snapshot(
    *, store: Store, config: HubConfig, scope: BoardScope, now: datetime
) -> dict[str, Any]:
    """The board as JSON: ``tiles`` in the file's order and a ``header``."""
    lines = scope.query_lines()
    calls = [call for call in open_calls(store, lines) if scope.shows(call.line)]
    by_station: dict[tuple[str, str, str], list[Call]] = {}
    for call in calls:
        by_station.setdefault((call.area, call.line, call.station), []).append(call)
    line_down = config.line_down_call_types()
    tiles = []
    for area in config.areas:
        for line in area.lines:
            if not scope.shows(line.id):
                continue
            for station in line.stations:
                key = (area.id, line.id, station.id)
                tiles.append(
                    _tile(
                        key,
                        names=(station.label(scope.language), line.label(scope.language)),
                        calls=by_station.pop(key, []),
                        config=config,
                        language=scope.language,
                        line_down=line_down,
                    )
                )
    # A station taken out of the file while it had a call open still shows that call.
    for key, left in sorted(by_station.items()):
        tiles.append(
            _tile(
                key,
                names=(key[2], key[1]),
                calls=left,
                config=config,
                language=scope.language,
                line_down=line_down,
            )
        )
    count, responses = _today(store, since=start_of_day(config.timezone, now), scope=scope)
    header = {
        "open_calls": len(calls),
        "calls_today": count,
        "median_response_s": statistics.median(responses) if responses else None,
    }
    return {"now": now.isoformat(), "tiles": tiles, "header": header}


def _today(store: Store, *, since: datetime, scope: BoardScope) -> tuple[int, list[float]]:
    """How many calls were raised since ``since``, and each one's time to acknowledge.

    Only the columns the header needs are read: the board redraws after every change."""
    columns = (calls_table.c.line, calls_table.c.raised_at, calls_table.c.received_at)
    acknowledged = func.coalesce(
        calls_table.c.acknowledged_at, calls_table.c.arrived_at, type_=UtcDateTime()
    )
    query = select(*columns, acknowledged.label("acknowledged")).where(
        calls_table.c.raised_at >= since
    )
    if scope.query_lines():
        query = query.where(calls_table.c.line.in_(scope.query_lines()))
    with store.read() as conn:
        rows = [row for row in conn.execute(query).all() if scope.shows(row.line)]
    responses = [
        # From the press, or the receipt if the edge's clock ran ahead (as Call.durations).
        (row.acknowledged - min(row.raised_at, row.received_at or row.raised_at)).total_seconds()
        for row in rows
        if row.acknowledged is not None
    ]
    return len(rows), responses


def _tile(
    key: tuple[str, str, str],
    *,
    names: tuple[str, str],
    calls: list[Call],
    config: HubConfig,
    language: str,
    line_down: set[str],
) -> dict[str, Any]:
    area, line, station = key
    light = station_light(OpenCall(str(c.state), c.call_type in line_down) for c in calls)
    ranked = sorted(
        calls,
        key=lambda c: (c.call_type not in line_down, OPEN_STATES.index(c.state), c.raised_at),
    )
    return {
        "area": area,
        "line": line,
        "station": station,
        "name": names[0],
        "line_name": names[1],
        "state": light.state,
        "colour": str(light.colour),
        "flashing": light.flashing,
        "calls": [_tile_call(call, config, language) for call in ranked],
    }


def _tile_call(call: Call, config: HubConfig, language: str) -> dict[str, Any]:
    call_type = config.call_type(call.call_type)
    return {
        "id": call.id,
        "call_type": call.call_type,
        "call_type_name": call_type.label(language) if call_type else call.call_type,
        "state": str(call.state),
        "raised_at": min(call.raised_at, call.received_at or call.raised_at).isoformat(),
        "acknowledged_by": call.acknowledged_by,
        "part_serial": call.part_serial,
        "part_lot": call.part_lot,
        "recurrence_of": call.recurrence_of,  # the earlier call it recurs, or None
    }
