"""``andon bench reports``: a year of machine states and part counts for 200 stations,
made here and written straight into the hub's tables, then the month's OEE report
(``/api/reports/oee``'s reading and arithmetic) and the month's downtime list (a page of
``/api/downtime``) timed for one line and for the whole site.

Each station runs in two-hour cycles: running, then one stop (down with a fault code,
idle, starved, blocked or changeover; a planned stop once a day) of 30 s to 15 min,
some shorter than ``micro_stop_s``; the parts made while running are counted at the
end of each running stretch.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from hub.config.file import HubConfig
from hub.db.engine import open_engine, upgrade
from hub.db.paging import MAX_PAGE
from hub.db.tables import machine_counts, machine_periods, machines
from hub.db.transactions import Database
from hub.machines.periods import downtime_page
from hub.reports.oee import oee_report

START = datetime(2025, 12, 1, tzinfo=UTC)
CYCLE_S = 2 * 3600
IDEAL_CYCLE_S = 30.0
STOPS = ("down", "idle", "starved", "blocked", "changeover")
STATIONS_PER_LINE = 20


def _config(lines: int) -> HubConfig:
    return HubConfig.model_validate({
        "site": "bench", "call_types": ["maintenance"], "reason_codes": ["spindle-overload"],
        "timezone": "Europe/Berlin",
        "shifts": [{"id": "early", "start": "06:00", "end": "14:00"},
                   {"id": "late", "start": "14:00", "end": "22:00"}],
        "areas": [{"id": "area1", "lines": [
            {"id": f"line{n}", "stations": [{"id": f"st{s}"} for s in range(STATIONS_PER_LINE)]}
            for n in range(lines)
        ]}],
    })  # fmt: skip


def _station_rows(
    line: str, station: str, days: int, rng: random.Random
) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """(period row, count row or None) of one station over ``days``."""
    place = {"area": "area1", "line": line, "station": station}
    moment = START
    for cycle in range(days * 86_400 // CYCLE_S):
        stop_s = rng.choice((30, 60, 90, 200, 400, 900))
        state = "planned_stop" if cycle % 12 == 5 else rng.choice(STOPS)
        run_end = moment + timedelta(seconds=CYCLE_S - stop_s)
        stop_end = moment + timedelta(seconds=CYCLE_S)
        running = {**place, "state": "running", "started_at": moment, "ended_at": run_end,
                   "seconds": float(CYCLE_S - stop_s), "fault_code": None}  # fmt: skip
        parts = int((CYCLE_S - stop_s) / IDEAL_CYCLE_S * rng.uniform(0.8, 0.98))
        count = {**place, "at": run_end - timedelta(seconds=1), "total": parts,
                 "rejects": rng.randint(0, 3)}  # fmt: skip
        yield running, count
        stop = {**place, "state": state, "started_at": run_end, "ended_at": stop_end,
                "seconds": float(stop_s), "fault_code": 17 if state == "down" else None,
                "reason": "spindle-overload" if state == "down" else None}  # fmt: skip
        yield stop, None
        moment = stop_end


def fill(engine: Engine, *, lines: int, days: int) -> int:
    """Write ``days`` of states and counts of ``lines`` x 20 stations; the periods made."""
    rng = random.Random(23)
    made = 0
    for n in range(lines):
        for s in range(STATIONS_PER_LINE):
            line, station = f"line{n}", f"st{s}"
            periods: list[dict[str, Any]] = []
            counts: list[dict[str, Any]] = []
            for period, count in _station_rows(line, station, days, rng):
                periods.append({"reason": None, **period})
                if count is not None:
                    counts.append(count)
            with engine.begin() as conn:
                conn.execute(insert(machine_periods), periods)
                conn.execute(insert(machine_counts), counts)
                conn.execute(insert(machines).values(
                    area="area1", line=line, station=station, ideal_cycle_s=IDEAL_CYCLE_S,
                    seen_at=periods[-1]["ended_at"],
                ))  # fmt: skip
            made += len(periods)
    if engine.dialect.name == "postgresql":
        # A year written in a minute is a year autovacuum has not yet analysed; a plant's
        # database, written over the year, has its statistics. Without them the first
        # query's plan was a guess (one line's month: 27 s once, 0.15 s after).
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE machine_periods, machine_counts, machines")
    return made


def _timed(run: Callable[[], object], times: int) -> list[float]:
    spent = []
    for _ in range(times):
        began = time.perf_counter()
        run()
        spent.append((time.perf_counter() - began) * 1000)
    return spent


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered), 2), "p99": round(p99, 2)}


def run_reports_bench(
    *, database_url: str, backend: str, lines: int = 10, days: int = 365, repeat: int = 10
) -> dict[str, Any]:
    """Fill a database and time the month's reports; the figures as a JSON-ready dict."""
    engine = open_engine(database_url)
    upgrade(engine)
    began = time.perf_counter()
    periods = fill(engine, lines=lines, days=days)
    fill_s = time.perf_counter() - began
    config = _config(lines)
    db = Database(engine)
    until = START + timedelta(days=days)
    since = until - timedelta(days=30)
    now = until

    def oee(scope: list[str]) -> Callable[[], object]:
        return lambda: oee_report(
            db, config, lines=scope, station=None, since=since, until=until, by="shift",
            now=now,
        )  # fmt: skip

    def downtime(scope: list[str]) -> Callable[[], object]:
        return lambda: downtime_page(
            db, since=since, until=until, lines=scope, station=None,
            micro_stop_s=config.micro_stop_s, now=now, after=None, limit=MAX_PAGE,
        )  # fmt: skip

    scopes = {"line": ["line0"], "site": []}
    oee_ms = {name: _timed(oee(scope), repeat) for name, scope in scopes.items()}
    downtime_ms = {name: _timed(downtime(scope), repeat) for name, scope in scopes.items()}
    engine.dispose()
    return {
        "backend": backend, "stations": lines * STATIONS_PER_LINE, "days": days,
        "periods": periods, "fill_s": round(fill_s, 1), "report_days": 30,
        "oee_query_ms": _percentiles(oee_ms["line"] + oee_ms["site"]),
        "downtime_query_ms": _percentiles(downtime_ms["line"] + downtime_ms["site"]),
        "oee_query_ms_by_scope": {k: _percentiles(v) for k, v in oee_ms.items()},
        "downtime_query_ms_by_scope": {k: _percentiles(v) for k, v in downtime_ms.items()},
    }  # fmt: skip
