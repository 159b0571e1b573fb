"""The reports page's weekly trends in a real browser: calls pressed on the simulated PLC
and moved along by a responder through the API, parts counted by its counters, read by
``andon edge`` and counted by the hub; the charts' points are checked against the
arithmetic on those calls' own times and those counts, and each chart's CSV downloads."""

from __future__ import annotations

import csv
import io
import statistics
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.helpers.waiting import wait_until
from tests.helpers.web import WebPlant, new_page, screenshot

pytestmark = [pytest.mark.system, pytest.mark.browser]

SITE_ZONE = ZoneInfo("Asia/Shanghai")  # the pages' test plant's time zone


def _iso_week(moment: str) -> str:
    year, week, _ = datetime.fromisoformat(moment).astimezone(SITE_ZONE).isocalendar()
    return f"{year}-W{week:02d}"


def _quality_total(api: httpx.Client) -> tuple[int, int, int]:
    report = api.get("/api/reports/quality", params={"since": "2000-01-01T00:00:00Z"}).json()
    found = [s["figures"] for s in report["stations"] if s["station"] == "st10"]
    return (
        (found[0]["inspected"], found[0]["defective"], found[0]["reworked"]) if found else (0, 0, 0)
    )


def test_the_weekly_trends_chart_the_calls_and_parts_of_this_week(
    web_plant: WebPlant, browser: Browser
) -> None:
    web_plant.wait_for_counter_bases()
    web_plant.count("st10", made=50, bad=2, rework=1)
    web_plant.press("st10")
    web_plant.press("st20")
    with web_plant.api("responder") as api:
        for call in api.get("/api/calls").json()["calls"]:
            assert api.post(f"/api/calls/{call['id']}/acknowledge").status_code == 200
        first = api.get("/api/calls").json()["calls"][0]
        resolved = api.post(f"/api/calls/{first['id']}/resolve", json={"reason_code": "tool-worn"})
        assert resolved.status_code == 200, resolved.text
        calls = api.get("/api/calls").json()["calls"]
        wait_until(lambda: _quality_total(api) == (50, 2, 1), what="st10's parts counted")
    # The hub's own record of the calls: medians of their steps, in their raise's week.
    week = _iso_week(calls[0]["raised_at"])
    assert all(_iso_week(c["raised_at"]) == week for c in calls), "a call on each side of Monday"
    to_acknowledge = statistics.median(c["durations"]["to_acknowledge_s"] for c in calls)
    to_resolve = calls[0]["durations"]["to_resolve_s"]

    page = new_page(browser, width=1400, height=1000)
    page.goto(f"{web_plant.base_url}/reports?token={web_plant.tokens['viewer']}")
    page.wait_for_selector("#trends[data-loaded=true]")
    charts = page.locator("#trends figure")
    expect(charts).to_have_count(7)  # OEE too: no machine here, so no point

    def point(series: str) -> float:
        found = page.locator(f'#trends figure[data-series="{series}"] circle[data-week="{week}"]')
        expect(found).to_have_count(1)
        return float(found.get_attribute("data-value") or "")

    assert point("to_acknowledge_s") == pytest.approx(to_acknowledge)
    assert point("to_resolve_s") == pytest.approx(to_resolve)
    assert point("defect_rate") == pytest.approx(2 / 50)
    assert point("rework_rate") == pytest.approx(1 / 50)
    assert point("first_pass_yield") == pytest.approx((50 - 2 - 1) / 50)
    # Nobody marked arrival: that chart has no point; the eleven weeks before, none.
    expect(page.locator('#trends figure[data-series="to_arrive_s"] circle')).to_have_count(0)
    expect(page.locator("#trends figure circle")).to_have_count(5)
    expect(page.locator('#trends figure[data-series="first_pass_yield"] .latest')).to_have_text(
        "94.0 %"
    )

    screenshot(page, "reports-trends")

    with page.expect_download() as download:
        page.locator('#trends figure[data-series="defect_rate"] button.trend-csv').click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert len(rows) == 12
    assert list(rows[0]) == ["week", "start", "end", "defect_rate"]
    assert rows[-1]["week"] == week
    assert float(rows[-1]["defect_rate"]) == pytest.approx(2 / 50)

    page.goto(f"{web_plant.base_url}/reports?lang=zh")
    page.wait_for_selector("#trends[data-loaded=true]")
    expect(page.locator("#trends h2")).to_contain_text("周趋势")
    expect(page.locator('#trends figure[data-series="defect_rate"] figcaption')).to_contain_text(
        "不良率"
    )
