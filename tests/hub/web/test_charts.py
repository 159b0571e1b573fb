"""The engineer's control charts against a real hub process: measurement messages go
through a real Mosquitto as an edge sends them, the point stream sends each new point of
its characteristic to the lines its token may read, and the chart page in Chromium shows
a planted SPC violation as a flagged point with its test number, live."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from contract.wire import utc_now
from tests.helpers.charts import Gauge, bore, stored
from tests.helpers.web import WebPlant, new_page, screenshot

pytestmark = pytest.mark.system


async def _points(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    event = None
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            event = line.partition(":")[2].strip()
        elif line.startswith("data:") and event in ("open", "point"):
            yield {"event": event, **json.loads(line.partition(":")[2])}


def _client(plant: WebPlant, role: str) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {plant.tokens[role]}"}
    return httpx.AsyncClient(base_url=plant.base_url, headers=headers, timeout=15)


@pytest.mark.asyncio
async def test_the_point_stream_sends_new_points_of_its_characteristic_only(
    web_plant: WebPlant, gauge: Gauge
) -> None:
    async with (
        _client(web_plant, "viewer") as viewer,
        viewer.stream("GET", "/api/characteristics/bore/events") as response,
    ):
        assert response.status_code == 200
        stream = _points(response)
        assert (await anext(stream))["event"] == "open"
        other = {**bore(1, 5.0), "characteristic": "torque", "measurement": "torque_nm"}
        gauge.send([other, bore(1, 10.41, 1)])
        point = await anext(stream)
        assert point["characteristic"] == "bore"  # torque's point was not sent
        assert (point["station"], point["line"], point["tests"]) == ("st10", "line1", [1])
        assert (point["value"], point["ucl"], point["part_serial"]) == (10.41, 10.3, "SN0001")
    async with _client(web_plant, "viewer-line2") as limited:
        refused = await limited.get("/api/characteristics/bore/events", params={"line": "line1"})
        assert refused.status_code == 403
    async with httpx.AsyncClient(base_url=web_plant.base_url) as anonymous:
        assert (await anonymous.get("/api/characteristics/bore/events")).status_code == 401


@pytest.mark.browser
def test_a_planted_violation_shows_on_the_chart_with_its_test_number(
    web_plant: WebPlant, gauge: Gauge, browser: Browser
) -> None:
    start = utc_now() - timedelta(minutes=30)
    values = [10.02, 9.95, 10.08, 9.9, 10.05, 9.98, 10.11, 9.93, 10.0, 10.04, 9.97, 10.06]
    for subgroup, value in enumerate(values, start=1):
        gauge.send([bore(subgroup, value)], at=start + timedelta(minutes=subgroup))
    gauge.send([bore(13, 10.42, 1)], at=start + timedelta(minutes=13))  # beyond the UCL
    stored(web_plant, 13)
    page = new_page(browser, width=1280, height=900)
    page.goto(f"{web_plant.base_url}/charts?token={web_plant.tokens['engineer']}")
    row = page.locator('#characteristics tr[data-characteristic="bore"]')
    expect(row.locator("td").nth(2)).to_have_text("Press-fit")
    row.locator("a").click()
    page.wait_for_url("**/charts/bore?*")
    flagged = page.locator("svg.spc .point.flagged")
    expect(flagged).to_have_count(1)
    expect(flagged).to_have_attribute("data-subgroup", "13")
    expect(flagged.locator("text.test-number")).to_have_text("1")
    expect(page.locator("svg.spc .point")).to_have_count(13)
    expect(page.locator("#live")).to_be_visible()
    # Live: a new point beyond the limit that also fails test 5 (two of three in zone A).
    gauge.send([bore(14, 10.5, 1, 5)], at=start + timedelta(minutes=14))
    expect(flagged).to_have_count(2)
    expect(page.locator('svg.spc .point[data-subgroup="14"] text.test-number')).to_have_text("1,5")
    expect(page.locator("#settings")).to_contain_text("1, 5")
    screenshot(page, "charts")
    page.goto(f"{web_plant.base_url}/charts/bore?lang=zh")
    expect(page.locator("h1")).to_contain_text("控制图")
    expect(page.locator("svg.spc .point.flagged")).to_have_count(2)
    page.context.close()


@pytest.mark.browser
def test_a_chart_with_no_points_says_so(web_plant: WebPlant, browser: Browser) -> None:
    page = new_page(browser, width=1280, height=900)
    page.goto(f"{web_plant.base_url}/charts/unknown?token={web_plant.tokens['viewer']}")
    expect(page.locator(".empty")).to_be_visible()
    expect(page.locator("svg.spc")).to_have_count(0)
    page.context.close()
