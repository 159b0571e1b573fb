"""Machine reports with chosen edge times, through the hub's ingest on both databases:
state periods, downtime with reasons, fault calls raised and cleared by the machine, and
OEE by station, shift and line and as a weekly trend, each figure checked against
arithmetic on the script.

The script crosses a shift boundary (06:00 UTC is 14:00 in Shanghai), a counter wrap
and a counter reset, a planned stop with parts counted in it (not in planned time), a
micro-stop, a report sent twice, a report of the state already open (an edge's
restart) and a hub restart in the middle of a period.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from fastapi import FastAPI

from contract.wire import MachineEvent, MachineFault, MachinePayload, Topics, event_json
from hub.access.permissions import Role
from hub.calls.station_events import IngestOutcome
from hub.config.file import load_hub_config
from hub.edges.ingest import Ingest
from hub.machines.fault_calls import CLEARED_NOTE
from hub.process.app import create_app
from hub.process.live_config import LiveConfig
from tests.helpers.hub import SITE, HubUnderTest, hub_settings
from tests.helpers.plant import write_yaml

pytestmark = pytest.mark.asyncio

T0 = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)  # 13:00 in Shanghai: the early shift
BOUNDARY = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # 14:00: the late shift begins
END = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
IDEAL_S = 10.0
SPINDLE = MachineFault(code=17, reason="spindle-overload", name="Spindle overload")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# (minute, state, fault, parts counter, rejects counter): what the edge saw, when.
SCRIPT: list[tuple[float, str, MachineFault | None, int, int]] = [
    (0, "running", None, 65_500, 0),  # the first reading is a base: nothing counted
    (10, "running", None, 24, 3),  # wrapped at 65536: 60 parts, 3 rejects
    (20, "down", SPINDLE, 24, 3),  # a fault: a maintenance call, 30 minutes down
    (50, "running", None, 24, 3),  # cleared: the call resolved at 05:50
    (55, "idle", None, 24, 3),  # a one-minute micro-stop
    (56, "running", None, 24, 3),
    (58, "running", None, 5, 3),  # the PLC restarted its counter: 5 parts since
    (59, "starved", None, 5, 3),  # four minutes across the shift boundary
    (63, "running", None, 5, 3),
    (70, "planned_stop", None, 5, 3),  # half an hour planned
    (80, "planned_stop", None, 12, 3),  # 7 parts counted in the planned stop
    (100, "running", None, 12, 3),
    (105, "running", None, 12, 3),  # the edge restarted: the same state again
    (110, "running", None, 40, 4),  # 28 parts, 1 reject
]
HUB_RESTART_AFTER = 8  # the hub restarts after the report of minute 59 (starved)


def settings(database_url: str) -> dict[str, Any]:
    hub = hub_settings(database_url)
    hub["timezone"] = "Asia/Shanghai"
    hub["shifts"] = [
        {"id": "early", "start": "06:00", "end": "14:00"},
        {"id": "late", "start": "14:00", "end": "22:00"},
    ]
    hub["reason_codes"] = [*hub["reason_codes"], "spindle-overload", "no-material"]
    hub["micro_stop_s"] = 120
    return hub


class Edge:
    """An edge's machine reports for line1/st10, as it would publish them."""

    def __init__(self) -> None:
        self.seq = 0
        self.topic = Topics().station_event(SITE, "assembly", "line1", "st10", "edge-test")

    def report(self, minute: float, state: str, fault: MachineFault | None, parts: int,
               rejects: int) -> tuple[str, bytes]:  # fmt: skip
        self.seq += 1
        payload = MachinePayload.model_validate(
            {"state": state, "fault": fault, "call_type": "maintenance" if fault else None,
             "parts": parts, "rejects": rejects, "wraps_at": 65536, "ideal_cycle_s": IDEAL_S}
        )  # fmt: skip
        event = MachineEvent(
            event_id=f"edge-test:{self.seq}", edge_id="edge-test", seq=self.seq, ts=at(minute),
            site=SITE, area="assembly", line="line1", station="st10", kind="machine",
            payload=payload,
        )  # fmt: skip
        return self.topic, event_json(event).encode()


def ingest(app: FastAPI, messages: list[tuple[str, bytes]]) -> list[Any]:
    live: LiveConfig = app.state.config
    return Ingest(config=lambda: live.current, store=app.state.store).handle_batch(messages).results


@pytest_asyncio.fixture
async def played(tmp_path: Path, database_url: str) -> AsyncIterator[HubUnderTest]:
    """The hub after the whole script, sent in two parts with a hub restart between."""
    config_path = write_yaml(tmp_path / "hub.yaml", settings(database_url))
    edge = Edge()
    messages = [edge.report(*step) for step in SCRIPT]
    first = create_app(load_hub_config(config_path), config_path=config_path)
    async with first.router.lifespan_context(first):
        results = ingest(first, messages[:HUB_RESTART_AFTER])
        assert results == [IngestOutcome.MACHINE] * HUB_RESTART_AFTER
    app = create_app(load_hub_config(config_path), config_path=config_path)
    async with app.router.lifespan_context(app):
        ingest(app, messages[HUB_RESTART_AFTER:])
        # Sent again (a redelivery): applied once.
        assert ingest(app, messages[9:11]) == [IngestOutcome.MACHINE] * 2
        yield HubUnderTest(app, config_path)


async def _get(hub: HubUnderTest, url: str, **params: Any) -> Any:
    async with hub.client(Role.VIEWER) as client:
        response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json() if params.get("format") != "csv" else response.text


def _seconds(start: float, end: float) -> float:
    return (end - start) * 60


async def _downtime_lists_each_stop_whole_with_its_fault_and_call(played: HubUnderTest) -> None:
    body = await _get(played, "/api/downtime", since=T0.isoformat(), until=END.isoformat())
    periods = body["periods"]
    seen = [
        (p["state"], datetime.fromisoformat(p["start"]), datetime.fromisoformat(p["end"]))
        for p in periods
    ]
    assert seen == [
        (state, at(start), at(end))
        for state, start, end in (("down", 20, 50), ("starved", 59, 63), ("planned_stop", 70, 100))
    ]
    assert [p["seconds"] for p in periods] == [
        _seconds(20, 50),
        _seconds(59, 63),
        _seconds(70, 100),
    ]
    down, starved, planned = periods
    assert (down["fault_code"], down["reason"]) == (17, "spindle-overload")
    assert (starved["fault_code"], starved["reason"], starved["call_id"]) == (None, None, None)
    (call,) = [c for c in played.store_calls() if c.id == down["call_id"]]
    assert (call.call_type, call.state, call.reason_code) == (
        "maintenance",
        "resolved",
        "spindle-overload",
    )
    assert (call.raised_at, call.resolved_at, call.note) == (at(20), at(50), CLEARED_NOTE)
    # Only what overlaps the period asked for, whole: the stop across 06:00 from 06:01 on.
    later = await _get(played, "/api/downtime", since=at(62).isoformat(), until=at(71).isoformat())
    assert [p["id"] for p in later["periods"]] == [starved["id"], planned["id"]]
    # A page at a time.
    first = await _get(
        played, "/api/downtime", since=T0.isoformat(), until=END.isoformat(), limit=2
    )
    assert [p["id"] for p in first["periods"]] == [down["id"], starved["id"]]
    rest = await _get(played, "/api/downtime", since=T0.isoformat(), until=END.isoformat(),
                      limit=2, cursor=first["next_cursor"])  # fmt: skip
    assert ([p["id"] for p in rest["periods"]], rest["next_cursor"]) == ([planned["id"]], None)


async def _a_responder_gives_a_stop_its_reason_once(played: HubUnderTest) -> None:
    body = await _get(played, "/api/downtime", since=T0.isoformat(), until=END.isoformat())
    starved = body["periods"][1]
    url = f"/api/downtime/{starved['id']}/reason"
    async with played.client(Role.RESPONDER) as client:
        unknown = await client.post(url, json={"reason": "gremlins"})
        given = await client.post(url, json={"reason": "no-material", "note": "cart late"})
        again = await client.post(url, json={"reason": "adjusted"})
        missing = await client.post("/api/downtime/99999/reason", json={"reason": "adjusted"})
    assert unknown.status_code == 409, unknown.text
    assert given.status_code == 200, given.text
    assert (given.json()["reason"], given.json()["id"]) == ("no-material", starved["id"])
    assert again.status_code == 409, again.text
    assert missing.status_code == 404, missing.text
    after = await _get(played, "/api/downtime", since=T0.isoformat(), until=END.isoformat())
    assert [p["reason"] for p in after["periods"]] == ["spindle-overload", "no-material", None]


def _expected(
    planned_s: float, down_s: float, total: int, rejects: int, micro: list[float]
) -> dict[str, Any]:
    run_s = planned_s - down_s
    good = total - rejects
    availability, performance, quality = run_s / planned_s, IDEAL_S * total / run_s, good / total
    return {
        "planned_s": planned_s, "run_s": run_s, "down_s": down_s, "total": total, "good": good,
        "availability": availability, "performance": performance, "quality": quality,
        "oee": availability * performance * quality, "micro_stops": len(micro),
        "micro_stop_total_s": sum(micro),
    }  # fmt: skip


def _close(row: dict[str, Any], expected: dict[str, Any]) -> None:
    for key, value in expected.items():
        assert row[key] == pytest.approx(value, rel=1e-12), key


async def _oee_by_station_shift_and_line_follows_the_script(played: HubUnderTest) -> None:
    period = {"since": T0.isoformat(), "until": END.isoformat()}
    whole = _seconds(0, 120)
    planned_stop = _seconds(70, 100)
    fault, starved, micro = _seconds(20, 50), _seconds(59, 63), _seconds(55, 56)
    # Parts: 65536 - 65500 + 24 by the wrap, 5 after the reset, 40 - 12 after the planned
    # stop (the 12 - 5 counted inside it are outside planned time).
    total = (65_536 - 65_500 + 24) + 5 + (40 - 12)
    station = _expected(whole - planned_stop, fault + starved, total, 3 + 1, [micro])
    body = await _get(played, "/api/reports/oee", by="station", **period)
    (row,) = body["rows"]
    assert (row["line"], row["station"], row["ideal_cycle_s"], "shift" in row) == (
        "line1", "st10", IDEAL_S, False,
    )  # fmt: skip
    _close(row, station)

    to_boundary = (BOUNDARY - at(59)).total_seconds()
    early = _expected(_seconds(0, 60), fault + to_boundary, 60 + 5, 3, [micro])
    late = _expected(_seconds(60, 120) - planned_stop, starved - to_boundary, 40 - 12, 1, [])
    shifts = await _get(played, "/api/reports/oee", by="shift", **period)
    assert [(r["station"], r["shift"]) for r in shifts["rows"]] == [
        ("st10", "early"),
        ("st10", "late"),
    ]
    _close(shifts["rows"][0], early)
    _close(shifts["rows"][1], late)

    lines = await _get(played, "/api/reports/oee", by="line", **period)
    (line_row,) = lines["rows"]
    assert (line_row["line"], line_row["station"], line_row["ideal_cycle_s"]) == (
        "line1",
        None,
        None,
    )
    _close(line_row, station)

    text = await _get(played, "/api/reports/oee", by="shift", format="csv", **period)
    table = list(csv.DictReader(io.StringIO(text)))
    assert [(r["shift"], int(r["total"])) for r in table] == [("early", 60 + 5), ("late", 40 - 12)]


async def _a_year_by_shift_counts_in_every_window(played: HubUnderTest) -> None:
    # A year of two shifts is some 730 shift windows: the database sums the parts in
    # several queries (WINDOWS_PER_QUERY windows each); the script's are in the last one.
    year = {"since": (END - timedelta(days=365)).isoformat(), "until": END.isoformat()}
    shift_s = 365 * 8 * 3600.0  # Shanghai keeps no summer time: 8 hours a day each
    fault, starved, micro = _seconds(20, 50), _seconds(59, 63), _seconds(55, 56)
    to_boundary = (BOUNDARY - at(59)).total_seconds()
    early = _expected(shift_s, fault + to_boundary, 60 + 5, 3, [micro])
    late = _expected(shift_s - _seconds(70, 100), starved - to_boundary, 40 - 12, 1, [])
    body = await _get(played, "/api/reports/oee", by="shift", **year)
    assert [(r["station"], r["shift"]) for r in body["rows"]] == [
        ("st10", "early"),
        ("st10", "late"),
    ]
    _close(body["rows"][0], early)
    _close(body["rows"][1], late)


async def _a_period_with_nothing_planned_has_null_ratios(played: HubUnderTest) -> None:
    # 22:00 to 06:00 Shanghai time (14:00 to 22:00 UTC) is outside both shifts.
    night = {"since": "2026-11-30T14:30:00Z", "until": "2026-11-30T21:00:00Z"}
    body = await _get(played, "/api/reports/oee", **night)
    (row,) = body["rows"]
    assert (row["planned_s"], row["availability"], row["performance"], row["oee"]) == (
        0,
        None,
        None,
        None,
    )
    assert (row["total"], row["quality"]) == (0, None)


async def _the_weeks_oee_is_a_trend(played: HubUnderTest) -> None:
    # ISO week 2026-W49 on Shanghai's clock holds the whole script; the week before holds
    # shifts but no parts, so no OEE. The week is over (now is later): all of it counts.
    week_s = 7 * 2 * 8 * 3600.0
    fault, starved, micro = _seconds(20, 50), _seconds(59, 63), _seconds(55, 56)
    total = (65_536 - 65_500 + 24) + 5 + (40 - 12)
    week = _expected(week_s - _seconds(70, 100), fault + starved, total, 3 + 1, [micro])
    body = await _get(played, "/api/reports/trends", until=END.isoformat(), weeks=2,
                      series="oee")  # fmt: skip
    assert [w["week"] for w in body["weeks"]] == ["2026-W48", "2026-W49"]
    (series,) = body["series"]
    assert (series["name"], series["unit"], series["values"][0]) == ("oee", "ratio", None)
    assert series["values"][1] == pytest.approx(week["oee"], rel=1e-12)


async def test_the_script_through_ingest(played: HubUnderTest) -> None:
    """One replay of the script per database (its setup is most of the time), then each
    question asked of it; giving a reason last, since it changes what the others read."""
    await _downtime_lists_each_stop_whole_with_its_fault_and_call(played)
    await _oee_by_station_shift_and_line_follows_the_script(played)
    await _a_year_by_shift_counts_in_every_window(played)
    await _a_period_with_nothing_planned_has_null_ratios(played)
    await _the_weeks_oee_is_a_trend(played)
    await _a_responder_gives_a_stop_its_reason_once(played)
