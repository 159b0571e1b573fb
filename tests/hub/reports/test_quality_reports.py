"""Quality figures on both databases: counter readings go in through the hub's measurement
writer (what its measurement process calls for each batch from the broker), and
``GET /api/reports/quality`` gives defect rate, rework rate and first-pass yield per
station and shift, with this ISO week against the last; a counter reset in the middle
leaves the rates true."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml

from hub.access.permissions import Role
from hub.config.file import load_hub_config
from hub.process.app import create_app
from hub.process.live_config import LiveConfig
from tests.helpers.hub import HubUnderTest, hub_settings
from tests.helpers.plant import write_yaml
from tests.helpers.quality import EARLY, LATE, MONDAY, ST10, ST20, Counters

pytestmark = pytest.mark.asyncio

THIS_WEEK = {"since": MONDAY.isoformat(), "until": (MONDAY + timedelta(days=3)).isoformat()}


@pytest_asyncio.fixture
async def hub(tmp_path: Path, database_url: str) -> AsyncIterator[HubUnderTest]:
    settings = hub_settings(database_url)
    settings["timezone"] = "Asia/Shanghai"
    settings["shifts"] = [
        {"id": "early", "start": "06:00", "end": "14:00", "names": {"zh": "早班"}},
        {"id": "late", "start": "14:00", "end": "22:00"},
    ]
    settings["measurements"] = {"quality": [ST10, ST20]}
    config_path = write_yaml(tmp_path / "hub.yaml", settings)
    app = create_app(load_hub_config(config_path), config_path=config_path)
    async with app.router.lifespan_context(app):
        yield HubUnderTest(app, config_path)


async def _quality(hub: HubUnderTest, role: Role = Role.VIEWER, *lines: str, **params: Any) -> Any:
    async with hub.client(role, *lines) as client:
        response = await client.get("/api/reports/quality", params={**THIS_WEEK, **params})
    assert response.status_code == 200, response.text
    return response.text if params.get("format") == "csv" else response.json()


def _station(report: dict[str, Any], station: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [s for s in report["stations"] if s["station"] == station]
    assert len(found) == 1, found
    return found[0]


def _shift(station: dict[str, Any], shift: str | None) -> dict[str, Any]:
    found: list[dict[str, Any]] = [s["figures"] for s in station["shifts"] if s["shift"] == shift]
    assert len(found) == 1, found
    return found[0]


async def test_rates_per_station_and_shift_come_from_the_counted_parts_through_a_reset(
    hub: HubUnderTest,
) -> None:
    edge = Counters(hub.app)
    tuesday = MONDAY + timedelta(days=1)
    # Early shift: a base, then 200 made, 6 bad, 3 reworked; the PLC restarts (all 0) and
    # counts 50 made, 1 bad, 1 reworked since. Late shift: 100 more, 2 bad, none reworked.
    base, before_reset, after_reset, late = (1100, 14, 7), (1300, 20, 10), (50, 1, 1), (150, 3, 1)
    for minutes, (made, bad, rework) in [
        (0, base), (60, before_reset), (61, (0, 0, 0)), (120, after_reset),
    ]:  # fmt: skip
        edge.read(tuesday + EARLY + timedelta(minutes=minutes), "st10", made=made, bad=bad,
                  rework=rework)  # fmt: skip
    edge.read(tuesday + LATE, "st10", made=late[0], bad=late[1], rework=late[2])

    st10 = _station(await _quality(hub), "st10")
    early = _shift(st10, "early")
    made = (before_reset[0] - base[0]) + after_reset[0]
    bad = (before_reset[1] - base[1]) + after_reset[1]
    reworked = (before_reset[2] - base[2]) + after_reset[2]
    assert (early["inspected"], early["defective"], early["reworked"]) == (made, bad, reworked)
    assert early["good_first_pass"] == made - bad - reworked
    assert early["first_pass_yield"] == pytest.approx((made - bad - reworked) / made)
    assert early["defect_rate"] == pytest.approx(bad / made)
    assert early["rework_rate"] == pytest.approx(reworked / made)
    late_made, late_bad = late[0] - after_reset[0], late[1] - after_reset[1]
    late_figures = _shift(st10, "late")
    assert (late_figures["inspected"], late_figures["defective"]) == (late_made, late_bad)
    assert late_figures["rework_rate"] == 0.0
    whole = st10["figures"]
    assert whole["inspected"] == made + late_made
    assert whole["defect_rate"] == pytest.approx((bad + late_bad) / (made + late_made))
    assert [s["shift"] for s in st10["shifts"]] == ["early", "late"]
    assert st10["label"] == "line1 / st10"
    assert st10["counters"] == ["inspected", "defective", "reworked"]


async def test_the_trend_sets_this_iso_week_against_the_last_in_plant_time(
    hub: HubUnderTest,
) -> None:
    edge = Counters(hub.app)
    last_week = MONDAY - timedelta(days=7) + EARLY
    edge.read(last_week, "st10", made=0, bad=0, rework=0)
    edge.read(last_week + timedelta(hours=1), "st10", made=100, bad=4, rework=2)
    # Sunday 23:00 in Shanghai is still last week; Monday 00:30 there is this week.
    edge.read(MONDAY - timedelta(hours=1), "st10", made=200, bad=4, rework=2)
    edge.read(MONDAY + timedelta(minutes=30), "st10", made=300, bad=5, rework=2)
    edge.read(MONDAY + EARLY, "st10", made=500, bad=6, rework=4)
    report = await _quality(hub)
    assert report["this_week"] == {
        "week": "2026-W49", "start": MONDAY.isoformat(), "end": THIS_WEEK["until"],
    }  # fmt: skip
    assert report["last_week"]["week"] == "2026-W48"
    assert report["last_week"]["start"] == (MONDAY - timedelta(days=7)).isoformat()
    trend = _station(report, "st10")["trend"]
    last = trend["last_week"]
    assert (last["inspected"], last["defective"], last["reworked"]) == (200, 4, 2)
    this = trend["this_week"]
    assert (this["inspected"], this["defective"], this["reworked"]) == (300, 2, 2)
    assert trend["delta"]["first_pass_yield"] == pytest.approx(296 / 300 - 194 / 200)
    assert trend["delta"]["defect_rate"] == pytest.approx(2 / 300 - 4 / 200)
    # Monday 00:30 falls in no shift: its hour is listed apart.
    assert _shift(_station(report, "st10"), None)["inspected"] == 100


async def test_a_station_without_a_rework_counter_has_no_rework_rate_and_csv_matches(
    hub: HubUnderTest,
) -> None:
    edge = Counters(hub.app)
    at = MONDAY + EARLY
    edge.read(at, "st20", made=10, bad=0)
    edge.read(at + timedelta(minutes=5), "st20", made=90, bad=4)
    st20 = _station(await _quality(hub, lang="zh"), "st20")
    early = st20["shifts"][0]
    assert (early["shift"], early["label"]) == ("early", "早班")
    assert early["figures"]["rework_rate"] is None
    assert early["figures"]["first_pass_yield"] == pytest.approx((80 - 4) / 80)
    rows = list(csv.DictReader(io.StringIO(await _quality(hub, format="csv"))))
    by_shift = {(r["station"], r["shift"]): r for r in rows}
    assert by_shift[("st20", "early")]["rework_rate"] == ""
    assert float(by_shift[("st20", "all")]["first_pass_yield"]) == pytest.approx(76 / 80)
    assert by_shift[("st20", "all")]["inspected"] == "80"


async def test_no_counters_means_no_stations_and_a_token_sees_only_its_lines(
    hub: HubUnderTest,
) -> None:
    assert (await _quality(hub))["stations"] == []
    edge = Counters(hub.app)
    edge.read(MONDAY + EARLY, "st20", made=1, bad=0)
    edge.read(MONDAY + EARLY + timedelta(minutes=1), "st20", made=5, bad=1)
    assert [s["station"] for s in (await _quality(hub))["stations"]] == ["st20"]
    assert (await _quality(hub, Role.VIEWER, "line2"))["stations"] == []
    async with hub.client(Role.VIEWER, "line2") as client:
        refused = await client.get("/api/reports/quality", params={**THIS_WEEK, "line": "line1"})
        assert refused.status_code == 403
        naive = await client.get("/api/reports/quality", params={"since": "2026-11-30T00:00"})
        assert naive.status_code == 422


async def test_rejects_counted_with_their_reworked_parts_are_not_taken_off_twice(
    hub: HubUnderTest,
) -> None:
    """With ``defective_includes_reworked`` a reworked part is one of the defective ones:
    the first-pass yield takes off the defective parts only."""
    settings = yaml.safe_load(hub.config_path.read_text())
    settings["measurements"]["quality"][0]["defective_includes_reworked"] = True
    hub.config_path.write_text(yaml.safe_dump(settings))
    live: LiveConfig = hub.app.state.config
    reload = live.reload(actor="test", now=MONDAY)
    assert reload.ok, reload
    edge = Counters(hub.app)
    edge.read(MONDAY + EARLY, "st10", made=0, bad=0, rework=0)
    edge.read(MONDAY + EARLY + timedelta(minutes=1), "st10", made=40, bad=4, rework=3)
    figures = _station(await _quality(hub), "st10")["figures"]
    assert figures["first_pass_yield"] == pytest.approx((40 - 4) / 40)
    assert figures["rework_rate"] == pytest.approx(3 / 40)
