"""The OEE report's times on random machine histories, on both databases, against plain
arithmetic: each stop's overlap with each shift window, one pair at a time.

The report lets the database sum the stops wholly inside a window and works out the rest
itself; the histories here put stops across every kind of edge (a shift's start and
end, two shifts that touch, the night between them, the period's since and until) and
leave some open, so that every way a stop can lie is counted.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from hub.config.file import HubConfig
from hub.db.engine import open_engine, upgrade
from hub.db.tables import machine_periods, machines
from hub.db.transactions import Database
from hub.reports.oee import Grouping, OeeRow, oee_report, report_windows

SINCE = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a shift's start: since is an edge too
UNTIL = datetime(2026, 3, 5, 17, 30, tzinfo=UTC)  # inside the late shift
NOW = UNTIL + timedelta(minutes=20)
MICRO_S = 120.0
STATES = ("running", "running", "down", "idle", "starved", "planned_stop")
SEEDS = range(4)
STATIONS = 5


SHIFTS = [{"id": "early", "start": "06:00", "end": "14:00"},
          {"id": "late", "start": "14:00", "end": "22:00"}]  # fmt: skip


def _config(shifts: list[dict[str, str]]) -> HubConfig:
    return HubConfig.model_validate({
        "site": "plant1", "call_types": ["maintenance"], "reason_codes": ["adjusted"],
        "timezone": "UTC", "micro_stop_s": MICRO_S, "shifts": shifts,
        "areas": [{"id": "area1", "lines": [
            {"id": f"line{seed}", "stations": [{"id": f"st{n}"} for n in range(STATIONS)]}
            for seed in SEEDS
        ]}],
    })  # fmt: skip


def _history(line: str, station: str, rng: random.Random) -> Iterator[dict[str, Any]]:
    """One machine's periods, each ending where the next begins, from before SINCE to
    past UNTIL; the last one is open when the machine is still in it (even a stop)."""
    place = {"area": "area1", "line": line, "station": station}
    moment = SINCE - timedelta(seconds=rng.randint(0, 20_000))
    while True:
        seconds = rng.choice((0, 30, 119, 120, 600, 3_600, 5 * 3600, 20 * 3600))
        seconds += rng.randint(0, 90)
        state = rng.choice(STATES)
        end = moment + timedelta(seconds=seconds)
        if rng.random() < 0.3:  # up to the next edge exactly: a shift's start or end, until
            end = min(e for e in _edges(moment) if e > moment)
            seconds = int((end - moment).total_seconds())
        if end >= NOW:
            yield {**place, "state": state, "started_at": moment, "ended_at": None,
                   "seconds": None}  # fmt: skip
            return
        yield {**place, "state": state, "started_at": moment, "ended_at": end,
               "seconds": float(seconds)}  # fmt: skip
        moment = end


def _edges(moment: datetime) -> list[datetime]:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    hours = [day + timedelta(days=d, hours=h) for d in (0, 1) for h in (6, 14, 22)]
    return [*hours, UNTIL, SINCE]


def _overlap(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> float:
    low, high = max(a[0], b[0]), min(a[1], b[1])
    return max((high - low).total_seconds(), 0.0)


def _expected(
    periods: list[dict[str, Any]], windows: list[tuple[datetime, datetime, str | None]]
) -> dict[str | None, dict[str, float]]:
    """One machine's times per shift, from each stop's overlap with each window."""
    times: dict[str | None, dict[str, float]] = {}
    for begin, finish, shift in windows:
        figures = times.setdefault(
            shift, {"planned_s": 0.0, "down_s": 0.0, "micro_stops": 0, "micro_stop_total_s": 0.0}
        )
        figures["planned_s"] += (finish - begin).total_seconds()
        for period in periods:
            if period["state"] == "running":
                continue
            end = period["ended_at"] or NOW
            seconds = _overlap((period["started_at"], end), (begin, finish))
            if period["state"] == "planned_stop":
                figures["planned_s"] -= seconds
            elif (end - period["started_at"]).total_seconds() >= MICRO_S:
                figures["down_s"] += seconds
            elif period["ended_at"] is not None and seconds > 0:
                figures["micro_stops"] += 1
                figures["micro_stop_total_s"] += seconds
    return times


def _same(row: OeeRow, figures: dict[str, float]) -> None:
    for key, value in figures.items():
        assert getattr(row, key) == pytest.approx(value, rel=1e-12, abs=1e-6), key
    assert row.run_s == pytest.approx(figures["planned_s"] - figures["down_s"], rel=1e-12)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _fill(engine: Engine) -> dict[tuple[str, str], list[dict[str, Any]]]:
    history: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for seed in SEEDS:
        rng = random.Random(seed)
        for n in range(STATIONS):
            place = (f"line{seed}", f"st{n}")
            history[place] = list(_history(*place, rng))
            with engine.begin() as conn:
                conn.execute(insert(machine_periods), history[place])
                conn.execute(insert(machines).values(
                    area="area1", line=place[0], station=place[1], ideal_cycle_s=10.0,
                    seen_at=NOW,
                ))  # fmt: skip
    return history


def test_stop_times_agree_with_each_stops_overlap_with_each_window(engine: Engine) -> None:
    history = _fill(engine)
    config = _config(SHIFTS)
    windows = report_windows(config, SINCE, UNTIL)
    assert {shift for _, _, shift in windows} == {"early", "late"}
    db = Database(engine)
    stops = [p for h in history.values() for p in h if p["state"] != "running"]
    edges = {moment for begin, finish, _ in windows for moment in (begin, finish)}
    assert {"down", "idle", "starved", "planned_stop"} <= {p["state"] for p in stops}
    assert any(p["ended_at"] is None for p in stops)
    assert any(p["started_at"] < e < (p["ended_at"] or NOW) for p in stops for e in edges)

    def report(by: Grouping, lines: list[str]) -> list[OeeRow]:
        return oee_report(
            db, config, lines=lines, station=None, since=SINCE, until=UNTIL, by=by, now=NOW
        )

    expected = {place: _expected(periods, windows) for place, periods in history.items()}
    by_shift = report("shift", [])
    assert len(by_shift) == len(history) * 2
    for row in by_shift:
        _same(row, expected[(row.line, row.station or "")][row.shift])
    for row in report("station", ["line1", "line3"]):
        assert row.line in ("line1", "line3")
        whole = expected[(row.line, row.station or "")]
        _same(row, {key: sum(shift[key] for shift in whole.values()) for key in whole["early"]})
    (line,) = report("line", ["line2"])
    stations = [expected[("line2", f"st{n}")] for n in range(STATIONS)]
    _same(line, {
        key: sum(shift[key] for whole in stations for shift in whole.values())
        for key in stations[0]["early"]
    })  # fmt: skip


def test_without_shifts_the_whole_period_is_planned_and_there_are_no_rows_by_shift(
    engine: Engine,
) -> None:
    history = _fill(engine)
    config = _config([])
    db = Database(engine)
    whole: list[tuple[datetime, datetime, str | None]] = [(SINCE, UNTIL, None)]
    rows = oee_report(
        db, config, lines=[], station=None, since=SINCE, until=UNTIL, by="station", now=NOW
    )
    assert len(rows) == len(history)
    for row in rows:
        _same(row, _expected(history[(row.line, row.station or "")], whole)[None])
    by_shift = oee_report(
        db, config, lines=[], station=None, since=SINCE, until=UNTIL, by="shift", now=NOW
    )
    assert by_shift == []
