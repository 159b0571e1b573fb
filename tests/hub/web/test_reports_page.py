"""What /reports shows in a real browser: shares only where groups are compared, shifts
named (calls outside every shift too), no heading over an empty section, and dates in
the browser's own format, the one the chart pages use too."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.helpers.waiting import wait_until
from tests.helpers.web import WebPlant, new_page

pytestmark = [pytest.mark.system, pytest.mark.browser]


def _headings_over_nothing(page: Page) -> list[str]:
    """The visible section headings whose section shows no row and no notice."""
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('main section')]
          .filter((section) => section.offsetParent !== null)
          .filter((section) => !section.querySelector('tbody tr, .notice:not([hidden]), svg'))
          .map((section) => section.querySelector('h2').textContent)"""
    )
    return found


def test_one_call_shows_no_share_a_named_shift_and_no_empty_section(
    web_plant: WebPlant, browser: Browser
) -> None:
    web_plant.press("st10")
    with web_plant.api() as api:
        wait_until(lambda: api.get("/api/calls").json()["calls"], what="the call at the hub")
    page = new_page(browser, width=1200, height=900, locale="en-US")
    page.goto(f"{web_plant.base_url}/reports?token={web_plant.tokens['viewer']}")
    page.wait_for_selector("body[data-loaded=true]")
    for table in ("#summary", "#by-line", "#by-station", "#by-call_type", "#by-shift"):
        expect(page.locator(f"{table} thead")).not_to_contain_text("Share")
        expect(page.locator(f"{table} thead")).not_to_contain_text("Cumulative")
    shift = page.locator("#by-shift tbody tr td").first
    expect(shift).not_to_have_text("-")
    expect(shift).not_to_have_text("")
    # Nothing was resolved with a reason: the Pareto says so; no other heading is empty.
    expect(page.locator("#pareto").locator("..").locator(".empty")).to_be_visible()
    assert _headings_over_nothing(page) == []


def test_a_token_with_no_calls_sees_no_empty_heading_and_dates_in_the_browsers_format(
    web_plant: WebPlant, browser: Browser
) -> None:
    page = new_page(browser, width=1200, height=900, locale="en-US")
    page.goto(f"{web_plant.base_url}/reports?token={web_plant.tokens['viewer-line2']}")
    page.wait_for_selector("body[data-loaded=true]")
    for section in ("#by-line", "#by-station", "#by-call_type", "#by-shift"):
        expect(page.locator(section)).to_be_hidden()
    expect(page.locator("#quality-trend-title")).to_be_hidden()
    assert _headings_over_nothing(page) == []
    # The one date format: what the browser's locale writes (en-US: month first).
    written = page.evaluate("() => Andon.date('2026-12-31T12:00:00Z')")
    assert written == page.evaluate("() => new Date('2026-12-31T12:00:00Z').toLocaleDateString()")
    assert written.startswith("12/31/")
