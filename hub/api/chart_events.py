"""/api/characteristics/{name}/events: a characteristic's new SPC points as server-sent
events, for the live control chart.

Points come from the hub's measurement news (hub/measurements/news.py) as the measurement
process stores them; the stream sends each point of the characteristic on the lines the
token may read, and a comment every few seconds, whether or not other characteristics'
points flow, so a proxy or a dead hub is noticed; the token is looked up again every
second, as on the board's stream (hub/api/streams.py). A listener that falls behind
loses the oldest messages, never the hub's memory: the chart reads the stored points
again when it reconnects.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse

from contract.wire import MeasurementEvent
from hub.access.permissions import Permission
from hub.access.tokens import TokenStore
from hub.api.auth import Principal, allowed
from hub.api.dependencies import MeasurementNewsDep, TokensDep
from hub.api.parameters import Word
from hub.api.streams import EVENT_STREAM, KEEPALIVE, event_stream, watched
from hub.measurements.news import MeasurementNews

router = APIRouter(tags=["measurements"])

# A chart page needs the newest points, not all of a flood: a small queue per page.
LISTENER_SIZE = 200


@router.get(
    "/api/characteristics/{name}/events", response_class=StreamingResponse, responses=EVENT_STREAM
)
async def point_events(
    request: Request,
    news: MeasurementNewsDep,
    tokens: TokensDep,
    name: Annotated[Word, Path(min_length=1)],
    *,
    who: Annotated[Principal, allowed(Permission.READ)],
    line: Word | None = None,
    station: Word | None = None,
) -> StreamingResponse:
    """``event: point`` with each new point of the characteristic (the fields of
    ``GET /api/characteristics/{name}/points`` less ``id`` and ``received_at``)."""
    if line is not None:
        who.check_line(line)
    wanted = _Filter(name=name, line=line, station=station, lines=who.lines)
    return event_stream(_events(request, news, tokens, wanted))


@dataclass(frozen=True, kw_only=True)
class _Filter:
    """Which points of a measurement message a stream sends."""

    name: str
    line: str | None
    station: str | None
    lines: tuple[str, ...]  # the token's lines; empty: every line

    def points(self, event: MeasurementEvent) -> list[dict[str, Any]]:
        if self.line is not None and event.line != self.line:
            return []
        if self.lines and event.line not in self.lines:
            return []
        found = []
        for point in event.payload.points:
            if point.characteristic != self.name:
                continue
            if self.station is not None and point.station != self.station:
                continue
            found.append(_point(event, point.model_dump(mode="json")))
        return found


def _point(event: MeasurementEvent, point: dict[str, Any]) -> dict[str, Any]:
    part = point.pop("part", None) or {}
    return {
        **point,
        "area": event.area,
        "line": event.line,
        "edge_id": event.edge_id,
        "part_serial": part.get("serial"),
        "part_lot": part.get("lot"),
        "at": event.ts.isoformat(),
    }


async def _events(
    request: Request, news: MeasurementNews, tokens: TokenStore, wanted: _Filter
) -> AsyncIterator[str]:
    with news.listen(size=LISTENER_SIZE) as listener:
        yield "event: open\ndata: {}\n\n"
        async for event in watched(request, tokens, listener.get):
            if event is None:
                yield KEEPALIVE
                continue
            for point in wanted.points(event):
                yield f"event: point\ndata: {json.dumps(point, ensure_ascii=False)}\n\n"
