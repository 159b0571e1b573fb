"""Weekly trends on both databases: calls raised through ingest and moved through their
lifecycle, parts counted through the hub's measurement writer, and
``GET /api/reports/trends`` giving a value per ISO week of the site's wall clock, checked
against the medians and sums of this script's own numbers."""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from hub.access.permissions import Role
from hub.calls.lifecycle import Actor, Source
from hub.config.file import load_hub_config
from hub.process.app import create_app
from tests.helpers.hub import HubUnderTest, hub_settings
from tests.helpers.plant import write_yaml
from tests.helpers.quality import EARLY, MONDAY, ST10, ST20, Counters

pytestmark = pytest.mark.asyncio

RESPONDER = Actor("li-wei", Source.API)
UNTIL = MONDAY + timedelta(days=3)  # in ISO week 2026-W49 (Monday 2026-11-30, Shanghai)
TIMES = ("to_acknowledge_s", "to_arrive_s", "to_resolve_s")
RATES = ("defect_rate", "rework_rate", "first_pass_yield")


@pytest_asyncio.fixture
async def hub(tmp_path: Path, database_url: str) -> AsyncIterator[HubUnderTest]:
    settings = hub_settings(database_url)
    settings["timezone"] = "Asia/Shanghai"
    settings["measurements"] = {"quality": [ST10, ST20]}
    config_path = write_yaml(tmp_path / "hub.yaml", settings)
    app = create_app(load_hub_config(config_path), config_path=config_path)
    async with app.router.lifespan_context(app):
        yield HubUnderTest(app, config_path)


def _call(hub: HubUnderTest, at: datetime, steps: dict[str, int], station: str = "st10") -> None:
    """A call raised at ``at``, then each action ``steps`` names that many seconds later."""
    call_id = hub.raise_call(station, at=at)
    for action, seconds in steps.items():
        details = {"reason_code": "tool-worn", "note": None} if action == "resolve" else None
        hub.store.transition(
            call_id, action, at + timedelta(seconds=seconds), actor=RESPONDER, details=details
        )


# Seconds to acknowledge, arrive and resolve of the calls raised in each week.
THIS_WEEK = [
    (MONDAY + EARLY, {"acknowledge": 30, "resolve": 300}),
    (MONDAY + EARLY + timedelta(hours=1), {"acknowledge": 90, "arrive": 120, "resolve": 600}),
    (MONDAY + EARLY + timedelta(hours=2), {"acknowledge": 60, "resolve": 100}),
    # Monday 00:30 in Shanghai (Sunday 16:30 UTC): this week, by the site's clock.
    (MONDAY + timedelta(minutes=30), {"acknowledge": 50, "resolve": 400}),
    (MONDAY + EARLY + timedelta(hours=3), {}),  # still open: no step, no value
]
# Sunday 23:30 in Shanghai: the week before.
LAST_WEEK = [(MONDAY - timedelta(minutes=30), {"acknowledge": 10, "resolve": 20})]
ELEVEN_WEEKS_AGO = [(MONDAY - timedelta(weeks=11) + EARLY, {"arrive": 7, "resolve": 70})]
TWELVE_WEEKS_AGO = [(MONDAY - timedelta(weeks=12) + EARLY, {"acknowledge": 1000, "resolve": 2000})]


def _median(calls: list[tuple[datetime, dict[str, int]]], action: str) -> float | None:
    values = [steps[action] for _, steps in calls if action in steps]
    # Arrival without acknowledgement counts as acknowledged on arrival.
    if action == "acknowledge":
        values += [s["arrive"] for _, s in calls if "arrive" in s and "acknowledge" not in s]
    return statistics.median(values) if values else None


def _count(edge: Counters) -> None:
    """st10 counts 200 made, 4 bad, 2 reworked last week and 300, 2, 2 this week (its
    Sunday 23:00 reading last week's, its Monday 00:30 this week's); st20 (no rework
    counter) 80 made and 4 bad this week."""
    last = MONDAY - timedelta(days=7) + EARLY
    edge.read(last, "st10", made=0, bad=0, rework=0)
    edge.read(last + timedelta(hours=1), "st10", made=100, bad=4, rework=2)
    edge.read(MONDAY - timedelta(hours=1), "st10", made=200, bad=4, rework=2)
    edge.read(MONDAY + timedelta(minutes=30), "st10", made=300, bad=5, rework=2)
    edge.read(MONDAY + EARLY, "st10", made=500, bad=6, rework=4)
    edge.read(MONDAY + EARLY, "st20", made=10, bad=0)
    edge.read(MONDAY + EARLY + timedelta(minutes=5), "st20", made=90, bad=4)


async def _trends(hub: HubUnderTest, role: Role = Role.VIEWER, *lines: str, **params: Any) -> Any:
    async with hub.client(role, *lines) as client:
        response = await client.get(
            "/api/reports/trends", params={"until": UNTIL.isoformat(), **params}
        )
    assert response.status_code == 200, response.text
    return response.text if params.get("format") == "csv" else response.json()


async def test_twelve_weeks_of_medians_and_rates_in_the_sites_weeks(hub: HubUnderTest) -> None:
    # In time order: the one call left open is the last (a press joins an open call).
    for at, steps in sorted(THIS_WEEK + LAST_WEEK + ELEVEN_WEEKS_AGO + TWELVE_WEEKS_AGO):
        _call(hub, at, steps)
    _count(Counters(hub.app))
    report = await _trends(hub)

    weeks = report["weeks"]
    assert [w["week"] for w in weeks] == [f"2026-W{n}" for n in range(38, 50)]
    assert datetime.fromisoformat(weeks[-1]["start"]) == MONDAY
    assert datetime.fromisoformat(weeks[-1]["end"]) == MONDAY + timedelta(weeks=1)
    assert datetime.fromisoformat(weeks[0]["start"]) == MONDAY - timedelta(weeks=11)
    assert report["timezone"] == "Asia/Shanghai"
    series = {s["name"]: s for s in report["series"]}
    assert list(series) == [*TIMES, *RATES, "oee"]
    assert series["oee"]["values"] == [None] * 12  # no machine reported (see tests/hub/machines)
    for name, action in zip(TIMES, ("acknowledge", "arrive", "resolve"), strict=True):
        assert series[name]["unit"] == "seconds"
        values = series[name]["values"]
        assert values[-1] == _median(THIS_WEEK, action), name
        assert values[-2] == _median(LAST_WEEK, action), name
        assert values[0] == _median(ELEVEN_WEEKS_AGO, action), name
        assert values[1:-2] == [None] * 9, name

    # Rates: parts summed over the stations that count what a rate needs, then divided.
    this_made, this_bad, this_rework = 300 + 80, 2 + 4, 2
    rates = {name: series[name]["values"] for name in RATES}
    assert rates["defect_rate"][-1] == pytest.approx(this_bad / this_made)
    assert rates["rework_rate"][-1] == pytest.approx(this_rework / 300)  # st20 counts none
    assert rates["first_pass_yield"][-1] == pytest.approx((300 - 2 - 2 + 80 - 4) / this_made)
    assert rates["defect_rate"][-2] == pytest.approx(4 / 200)
    assert rates["first_pass_yield"][-2] == pytest.approx((200 - 4 - 2) / 200)
    assert all(rates[name][:-2] == [None] * 10 for name in RATES)

    rows = list(csv.DictReader(io.StringIO(await _trends(hub, format="csv"))))
    assert [r["week"] for r in rows] == [w["week"] for w in weeks]
    for name in (*TIMES, *RATES):
        from_csv = [float(r[name]) if r[name] else None for r in rows]
        assert from_csv == pytest.approx(series[name]["values"], abs=1e-6), name


async def test_a_token_sees_its_lines_and_bad_series_are_refused(hub: HubUnderTest) -> None:
    for at, steps in sorted(THIS_WEEK):
        _call(hub, at, steps)
    report = await _trends(hub, Role.VIEWER, "line2", weeks=2, series="to_resolve_s")
    assert [(s["name"], s["values"]) for s in report["series"]] == [("to_resolve_s", [None, None])]
    line1 = await _trends(hub, weeks=1, series=["to_resolve_s", "defect_rate"], line="line1")
    assert [s["values"] for s in line1["series"]] == [[_median(THIS_WEEK, "resolve")], [None]]
    async with hub.client(Role.VIEWER, "line2") as client:
        refused = await client.get("/api/reports/trends", params={"line": "line1"})
        assert refused.status_code == 403
    async with hub.client(Role.VIEWER) as client:
        unknown = await client.get("/api/reports/trends", params={"series": "oee-ish"})
        assert unknown.status_code == 422
        assert "no such series: oee-ish; known: to_acknowledge_s," in unknown.text
        too_many = await client.get("/api/reports/trends", params={"weeks": 54})
        assert too_many.status_code == 422
