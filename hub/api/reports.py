"""/api/reports: response figures over a period, overall and by reason code (the Pareto),
line, station, call type or shift, the stations' quality figures by shift with their
trend week over week, and weekly trends over the last weeks; JSON, or CSV with
``?format=csv``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse, Response
from pydantic import AfterValidator, WithJsonSchema

from contract.bounds import Moment
from contract.wire import utc_now
from hub.access.permissions import Permission
from hub.api.auth import Principal, allowed
from hub.api.dependencies import LiveConfigDep, StoreDep
from hub.api.parameters import MAX_LIST, Words
from hub.api.report_schemas import (
    RecurrenceRowOut,
    RecurrencesOut,
    TrendSeriesOut,
    TrendsOut,
    TrendWeekOut,
)
from hub.calls.records import Call
from hub.calls.repository import Store
from hub.config.file import HubConfig, Named
from hub.machines.periods import TooManyRows
from hub.reports.calls import PeriodTooLong, Row, breakdown, key_of, read_period, rows_csv
from hub.reports.quality import (
    StationQuality,
    TooManyBuckets,
    Weeks,
    quality_csv,
    read_buckets,
    station_quality,
)
from hub.reports.recurrences import recurrence_rows, recurrences_csv
from hub.reports.trends import (
    MAX_WEEKS,
    SERIES_NAMES,
    WEEKS,
    TrendSources,
    trends_csv,
    weekly_trends,
    weeks_ending,
)

router = APIRouter(prefix="/api/reports", tags=["reports"])

DEFAULT_PERIOD = timedelta(days=7)
Dimension = Literal["reason_code", "line", "station", "call_type", "shift"]
Language = Literal["en", "zh"]
Format = Literal["json", "csv"]


def _period(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    end = until or utc_now()
    start = since or end - DEFAULT_PERIOD
    # A period that ends before it starts holds nothing, as SQL's [since, until) would say:
    # no rule the document can state (it describes each parameter alone) refuses it.
    return start, end


async def _calls(
    store: Store, who: Principal, line: list[str] | None, period: tuple[datetime, datetime]
) -> list[Call]:
    for wanted in line or ():
        who.check_line(wanted)
    lines = line or list(who.lines)
    try:
        return await asyncio.to_thread(
            lambda: read_period(store, since=period[0], until=period[1], lines=lines)
        )
    except PeriodTooLong as exc:
        raise HTTPException(422, str(exc)) from None


def _answer(
    rows: list[Row], period: tuple[datetime, datetime], fmt: str, extra: dict[str, Any]
) -> Response:
    if fmt == "csv":
        return Response(rows_csv(rows), media_type="text/csv; charset=utf-8")
    body = {
        "since": period[0].isoformat(),
        "until": period[1].isoformat(),
        **extra,
        "rows": [asdict(row) for row in rows],
    }
    return JSONResponse(body)


# ``format=csv`` answers CSV: both answers are documented.
CSV_OR_JSON: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON, or CSV with ``format=csv``",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}

SINCE = Query(description="calls raised at or after (ISO 8601); default: a week before until")
UNTIL = Query(description="calls raised before (ISO 8601); default: now")


@router.get("/summary", response_class=JSONResponse, responses=CSV_OR_JSON)
async def summary(
    store: StoreDep,
    *,
    who: Annotated[Principal, allowed(Permission.READ)],
    since: Annotated[Moment | None, SINCE] = None,
    until: Annotated[Moment | None, UNTIL] = None,
    line: Words,
    format: Format = "json",  # the query parameter's documented name
) -> Response:
    """Every call of the period in one row (key ``all``): counts and response times."""
    period = _period(since, until)
    calls = await _calls(store, who, line, period)
    rows = breakdown(calls, key=lambda _call: "all", label=lambda _key: "all", now=utc_now())
    return _answer(rows, period, format, {})


@router.get("/calls", response_class=JSONResponse, responses=CSV_OR_JSON)
async def calls_by(
    store: StoreDep,
    config: LiveConfigDep,
    *,
    who: Annotated[Principal, allowed(Permission.READ)],
    by: Dimension,
    since: Annotated[Moment | None, SINCE] = None,
    until: Annotated[Moment | None, UNTIL] = None,
    line: Words,
    lang: Language = "en",
    format: Format = "json",  # the query parameter's documented name
) -> Response:
    """Calls of the period grouped ``by`` one dimension, the largest group first, with each
    group's share and the running share (the Pareto line). ``by=reason_code`` counts the
    calls resolved with a reason; ``by=shift`` puts calls outside every shift under null."""
    period = _period(since, until)
    calls = await _calls(store, who, line, period)
    hub = config.current
    rows = breakdown(
        calls,
        key=key_of(by, hub),
        label=lambda key: label_of(hub, by, key, lang),
        now=utc_now(),
        skip_none=by == "reason_code",
    )
    return _answer(rows, period, format, {"by": by})


def label_of(config: HubConfig, dimension: str, key: str | None, language: str) -> str:
    """The name people read for a group's key, from the hub's file."""
    if key is None:
        return "-"
    by_dimension: dict[str, Sequence[Named]] = {
        "reason_code": config.reason_codes,
        "call_type": config.call_types,
        "shift": config.shifts,
        "line": [line for area in config.areas for line in area.lines],
    }
    named = by_dimension.get(dimension, ())
    if dimension == "station":
        line_id, _, station_id = key.partition("/")
        for area in config.areas:
            for line in area.lines:
                for station in line.stations:
                    if line.id == line_id and station.id == station_id:
                        return f"{line.label(language)} / {station.label(language)}"
        return key
    found = next((item for item in named if item.id == key), None)
    return found.label(language) if found is not None else key


@router.get("/quality", response_class=JSONResponse, responses=CSV_OR_JSON)
async def quality(
    config: LiveConfigDep,
    store: StoreDep,
    *,
    who: Annotated[Principal, allowed(Permission.READ)],
    since: Annotated[Moment | None, Query(description="hours starting at or after")] = None,
    until: Annotated[Moment | None, Query(description="hours starting before")] = None,
    line: Words,
    lang: Language = "en",
    format: Format = "json",  # the query parameter's documented name
) -> Response:
    """Defect rate, rework rate and first-pass yield per station, over the period and by
    shift, from the parts its counters counted; and the trend: the ISO week (plant time)
    holding the period's end against the week before. Rates run from 0 to 1; ``null``
    when nothing was inspected or the station has no counter of that kind."""
    period = _period(since, until)
    for wanted in line or ():
        who.check_line(wanted)
    lines = line or list(who.lines)
    hub = config.current
    weeks = Weeks.ending(period[1], hub.timezone)

    def read() -> list[StationQuality]:
        in_period = read_buckets(store, start=period[0], end=period[1], lines=lines)
        in_weeks = read_buckets(store, start=weeks.last_start, end=weeks.this_end, lines=lines)
        return station_quality(in_period, in_weeks, config=hub, week=weeks)

    try:
        stations = await asyncio.to_thread(read)
    except TooManyBuckets as exc:
        raise HTTPException(422, str(exc)) from None

    def label(dimension: str, key: str | None) -> str:
        return label_of(hub, dimension, key, lang)

    if format == "csv":
        return Response(quality_csv(stations, label), media_type="text/csv; charset=utf-8")
    body = {
        "since": period[0].isoformat(),
        "until": period[1].isoformat(),
        "this_week": {
            "week": weeks.this_week,
            "start": weeks.this_start.isoformat(),
            "end": weeks.this_end.isoformat(),
        },
        "last_week": {
            "week": weeks.last_week,
            "start": weeks.last_start.isoformat(),
            "end": weeks.this_start.isoformat(),
        },
        "stations": [_station_body(item, label) for item in stations],
    }
    return JSONResponse(body)


def _station_body(item: StationQuality, label: Callable[[str, str | None], str]) -> dict[str, Any]:
    shifts = [
        {"shift": s.shift, "label": label("shift", s.shift), "figures": asdict(s.figures)}
        for s in item.shifts
    ]
    return {
        "line": item.line,
        "station": item.station,
        "label": label("station", f"{item.line}/{item.station}"),
        "counters": list(item.counters),
        "figures": asdict(item.figures),
        "shifts": shifts,
        "trend": asdict(item.trend),
    }


SERIES_LIST = ", ".join(SERIES_NAMES)


def _known_series(name: str) -> str:
    if name not in SERIES_NAMES:
        raise ValueError(f"no such series: {name}; known: {SERIES_LIST}")
    return name


# A name of hub/reports/trends.py's table, documented as the enumeration of its names: a
# row added there is a value here, with no second list to keep.
SeriesName = Annotated[
    str,
    AfterValidator(_known_series),
    WithJsonSchema({"type": "string", "enum": list(SERIES_NAMES)}),
]


@router.get("/trends", response_model=TrendsOut, responses=CSV_OR_JSON)
async def trends(
    config: LiveConfigDep,
    store: StoreDep,
    *,
    who: Annotated[Principal, allowed(Permission.READ)],
    until: Annotated[
        Moment | None, Query(description="the last week is the one holding this; default: now")
    ] = None,
    weeks: Annotated[int, Query(ge=1, le=MAX_WEEKS, description="how many weeks")] = WEEKS,
    series: Annotated[
        list[SeriesName],
        Query(default_factory=list, max_length=MAX_LIST, description="which (repeat; none: all)"),
    ],
    line: Words,
    format: Format = "json",  # the query parameter's documented name
) -> TrendsOut | Response:
    """A value per ISO week (Monday to Sunday in the site's time zone) for each series:
    median times to acknowledge, arrive and resolve of the calls raised in the week;
    defect rate, rework rate and first-pass yield of the parts counted in it (summed over
    the stations with the counters, then divided); OEE over every machine (summed like a
    line's stations, up to now in the current week). ``null`` where the week has nothing
    to compute a value from. CSV: a line per week, a column per series."""
    for wanted in line or ():
        who.check_line(wanted)
    hub = config.current
    span = weeks_ending(until or utc_now(), hub.timezone, weeks)
    sources = TrendSources(
        store=store, config=hub, lines=line or list(who.lines), weeks=span, now=utc_now()
    )
    try:
        found = await asyncio.to_thread(lambda: weekly_trends(sources, series or SERIES_NAMES))
    except (PeriodTooLong, TooManyBuckets, TooManyRows) as exc:
        raise HTTPException(422, str(exc)) from None
    if format == "csv":
        return Response(trends_csv(span, found), media_type="text/csv; charset=utf-8")
    return TrendsOut(
        timezone=hub.timezone,
        weeks=[TrendWeekOut(week=w.week, start=w.start, end=w.end) for w in span],
        series=[TrendSeriesOut(name=s.name, unit=s.unit, values=s.values) for s in found],
    )


@router.get("/recurrences", response_model=RecurrencesOut, responses=CSV_OR_JSON)
async def recurrences(
    store: StoreDep,
    config: LiveConfigDep,
    *,
    who: Annotated[Principal, allowed(Permission.READ)],
    by: Literal["station", "reason_code"] = "station",
    since: Annotated[Moment | None, SINCE] = None,
    until: Annotated[Moment | None, UNTIL] = None,
    line: Words,
    lang: Language = "en",
    format: Format = "json",  # the query parameter's documented name
) -> RecurrencesOut | Response:
    """Of the calls raised in the period and resolved with a reason code, by station or
    by reason code: how many recur an earlier call (the same reason code, or SPC
    characteristic, at the station within ``recurrence_days`` of that call's fix), and
    the rate (recurrences / resolved). Most recurrences first."""
    period = _period(since, until)
    calls = await _calls(store, who, line, period)
    hub = config.current
    rows = recurrence_rows(calls, by=by, label=lambda key: label_of(hub, by, key, lang))
    if format == "csv":
        return Response(recurrences_csv(rows), media_type="text/csv; charset=utf-8")
    return RecurrencesOut(
        since=period[0],
        until=period[1],
        by=by,
        recurrence_days=hub.recurrence_days,
        rows=[RecurrenceRowOut.model_validate(row.__dict__) for row in rows],
    )
