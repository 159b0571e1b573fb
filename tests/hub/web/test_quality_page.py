"""The reports page's quality figures in a real browser: parts counted by the simulated
PLC's counters, read by ``andon edge``, sent through Mosquitto and counted by the hub's
measurement process, through a PLC restart that sets the counters back to 0."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.helpers.waiting import wait_until
from tests.helpers.web import WebPlant, new_page, readings_counted

pytestmark = [pytest.mark.system, pytest.mark.browser]

WHOLE_RANGE = {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}


def _station(
    api: httpx.Client, station: str, period: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """The station's figures over ``period`` (default: all time)."""
    report = api.get("/api/reports/quality", params=WHOLE_RANGE if period is None else period)
    report = report.json()
    found = [s for s in report["stations"] if s["station"] == station]
    return found[0] if found else None


def _counted(api: httpx.Client, station: str) -> tuple[int, int, int] | None:
    """Parts inspected, defective and reworked at ``station``, the whole time."""
    found = _station(api, station)
    if found is None:
        return None
    figures = found["figures"]
    return figures["inspected"], figures["defective"], figures["reworked"]


def test_the_reports_page_shows_the_quality_figures_of_the_parts_counted(
    web_plant: WebPlant, browser: Browser
) -> None:
    with web_plant.api("viewer") as api:
        web_plant.wait_for_counter_bases()
        first = {"made": 120, "bad": 3, "rework": 2}
        web_plant.count("st10", **first)
        web_plant.count("st20", made=40, bad=1)
        wait_until(lambda: _counted(api, "st10") == (120, 3, 2), what="st10 counted")
        wait_until(lambda: _counted(api, "st20") == (40, 1, 0), what="st20 counted")
        # The PLC restarts: every counter of st10 reads 0, then counts up again.
        web_plant.count("st10", made=0, bad=0, rework=0)
        wait_until(lambda: readings_counted(api, "reset") >= 3, what="the reset seen")
        after = {"made": 30, "bad": 1, "rework": 0}
        web_plant.count("st10", **after)
        made = first["made"] + after["made"]
        bad, rework = first["bad"] + after["bad"], first["rework"] + after["rework"]
        wait_until(lambda: _counted(api, "st10") == (made, bad, rework), what="after the reset")
        from_api = _station(api, "st10", {})  # the week before now: this week's trend
    assert from_api is not None
    fpy = (made - bad - rework) / made

    page = new_page(browser, width=1400, height=1000)
    page.goto(f"{web_plant.base_url}/reports?token={web_plant.tokens['viewer']}")
    page.wait_for_selector("body[data-loaded=true]")
    total = page.locator('#quality-shifts tr[data-station="st10"][data-shift="all"]')
    expect(total.locator('[data-figure="inspected"]')).to_have_text(str(made))
    expect(total.locator('[data-figure="fpy"]')).to_have_text(f"{fpy * 100:.1f} %")
    assert float(total.locator('[data-figure="fpy"]').get_attribute("data-value") or "") == (
        pytest.approx(fpy)
    )
    expect(total.locator('[data-figure="defect-rate"]')).to_have_text(f"{bad / made * 100:.1f} %")
    expect(total).to_contain_text("Press-fit")
    # The shifts' rows add up to the station's, whichever shifts the test ran in.
    shifts = page.locator('#quality-shifts tr[data-station="st10"]:not([data-shift="all"])')
    per_shift = shifts.locator('[data-figure="inspected"]').all_text_contents()
    assert per_shift
    assert sum(int(n) for n in per_shift) == made
    st20 = page.locator('#quality-shifts tr[data-station="st20"][data-shift="all"]')
    expect(st20.locator('[data-figure="rework-rate"]')).to_have_text("–")  # no such counter
    trend = page.locator('#quality-trend tr[data-station="st10"]')
    this_week = from_api["trend"]["this_week"]["first_pass_yield"]
    this_week_cell = trend.locator('[data-figure="fpy-this-week"]')
    assert float(this_week_cell.get_attribute("data-value") or "") == pytest.approx(this_week)
    expect(page.locator("#quality-empty")).to_be_hidden()

    page.goto(f"{web_plant.base_url}/reports?lang=zh")
    page.wait_for_selector("body[data-loaded=true]")
    expect(page.locator("#quality-shifts thead")).to_contain_text("一次合格率")
    expect(page.locator("#quality-shifts")).to_contain_text("压装")


def test_a_token_whose_lines_count_no_parts_sees_the_empty_state(
    web_plant: WebPlant, browser: Browser
) -> None:
    page = new_page(browser, width=1200, height=900)
    page.goto(f"{web_plant.base_url}/reports?token={web_plant.tokens['viewer-line2']}")
    page.wait_for_selector("body[data-loaded=true]")
    expect(page.locator("#quality-empty")).to_be_visible()
    expect(page.locator("#quality-empty")).to_contain_text("No parts counted")
    expect(page.locator("#quality-shifts")).to_be_hidden()
