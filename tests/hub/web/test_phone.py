"""The responder's phone (390x844) against a real hub in a real browser: no page is wider
than the screen in either language and the top bar folds into a menu; in a long inbox
the tap after an acknowledgement acts on the same call, even when an older read of the
list comes back after the acknowledgement's answer; the resolve form's reason starts
empty and is required; the acknowledgement link's page names the call in the person's
language."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import APIResponse, Browser, Page, Route, expect

from hub.web.i18n import TEXTS
from testbed.broker import MosquittoBroker
from tests.helpers.floor import FEW, LOCALES, MANY, MANY_STATIONS, PHONE, FloorHub, floor_hub
from tests.helpers.waiting import wait_until
from tests.helpers.web import new_page, screenshot

pytestmark = [pytest.mark.system, pytest.mark.browser]


@pytest.fixture
def floor(tmp_path: Path, broker: MosquittoBroker, topic_prefix: str) -> Iterator[FloorHub]:
    with floor_hub(tmp_path, broker, topic_prefix) as started:
        yield started


def _phone(browser: Browser, lang: str = "en") -> Page:
    return new_page(browser, **PHONE, locale=LOCALES[lang])


def _width(page: Page) -> int:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width


def _signed_in(floor: FloorHub, page: Page, path: str) -> None:
    separator = "&" if "?" in path else "?"
    page.goto(f"{floor.base_url}{path}{separator}token={floor.tokens['responder']}")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_page_is_wider_than_a_phone_and_the_bar_folds_into_a_menu(
    floor: FloorHub, browser: Browser, lang: str
) -> None:
    call_id = floor.raise_call(FEW, "st01", "maintenance")  # told to people: a link, a log
    ack_url = floor.ack_url("sam", call_id)
    page = _phone(browser, lang)
    _signed_in(floor, page, f"/inbox?lang={lang}")
    page.wait_for_selector(f'.card[data-call="{call_id}"]')
    expect(page.locator("#menu a[href='/reports']")).to_be_hidden()
    page.locator("#menu-toggle").click()
    expect(page.locator("#menu a[href='/reports']")).to_be_visible()
    expect(page.locator("#sign-out")).to_be_visible()
    assert _width(page) <= PHONE["width"], "/inbox"
    waits = {
        f"/calls/{call_id}": "#notifications tr.notification",
        "/board": '[data-station="st01"][data-state="raised"]',
        f"/board/{MANY}": '[data-station="s20"]',
        "/reports": "body[data-loaded=true]",
    }
    for path, ready in waits.items():
        page.goto(f"{floor.base_url}{path}")
        page.wait_for_selector(ready)
        assert _width(page) <= PHONE["width"], path
        expect(page.locator("#menu-toggle")).to_be_visible()
    page.goto(ack_url)
    expect(page.locator("[data-ack=confirm]")).to_be_visible()
    assert _width(page) <= PHONE["width"], "the link's page"


def _long_inbox(floor: FloorHub, browser: Browser) -> tuple[Page, list[int]]:
    calls = [floor.raise_call(MANY, station) for station in MANY_STATIONS]
    page = _phone(browser)
    _signed_in(floor, page, "/inbox")
    expect(page.locator(".card")).to_have_count(len(calls))
    return page, calls


def _states(floor: FloorHub, calls: list[int]) -> dict[int, str]:
    return {call_id: floor.call(call_id)["state"] for call_id in calls}


def test_after_an_acknowledgement_in_a_long_inbox_the_next_tap_acts_on_the_same_call(
    floor: FloorHub, browser: Browser
) -> None:
    page, calls = _long_inbox(floor, browser)
    target = calls[7]  # oldest first: the eighth card, mid-list
    card = page.locator(f'.card[data-call="{target}"]')
    card.scroll_into_view_if_needed()
    box = card.locator(".do-acknowledge").bounding_box()
    assert box is not None
    finger = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(*finger)
    done = page.locator(f'.card[data-call="{target}"][data-done="acknowledge"]')
    expect(done.locator(".done")).to_have_text(TEXTS["done_acknowledge"]["en"])
    wait_until(lambda: floor.call(target)["state"] == "acknowledged", what="acknowledged")

    page.mouse.click(*finger)  # the same place: the call's next action, "Arrived"
    wait_until(lambda: floor.call(target)["state"] == "arrived", what="the same call arrived")
    others = _states(floor, [c for c in calls if c != target])
    assert set(others.values()) == {"raised"}, others
    expect(page.locator(f'.card[data-call="{target}"][data-state="arrived"]')).to_be_visible()


def test_a_long_inbox_is_drawn_whole_and_does_not_move_under_the_finger(
    floor: FloorHub, browser: Browser
) -> None:
    """Every card comes with its camera button (a responder may photograph); nothing is
    added to the cards later, so nothing on the screen moves once drawn: the browser's own
    layout-shift entries (Layout Instability API) add up to 0."""
    page = _phone(browser)
    page.add_init_script(
        "window.shifts = [];"
        "new PerformanceObserver((list) => window.shifts.push(...list.getEntries()))"
        ".observe({ type: 'layout-shift', buffered: true });"
    )
    answered: list[str] = []
    page.on("requestfinished", lambda request: answered.append(request.url))
    calls = [floor.raise_call(MANY, station) for station in MANY_STATIONS]
    _signed_in(floor, page, "/inbox")
    expect(page.locator(".card")).to_have_count(len(calls))
    expect(page.locator(".card .photo-take")).to_have_count(len(calls))

    def photos_answered() -> bool:
        page.wait_for_timeout(50)  # the page's events are heard while it waits
        return sum(url.endswith("/photos") for url in answered) >= len(calls)

    wait_until(photos_answered, what="every card's photos asked for and answered")
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => setTimeout(done)))")
    shifted = page.evaluate("window.shifts.filter((s) => !s.hadRecentInput).map((s) => s.value)")
    assert shifted == []


def test_a_list_read_answered_after_the_acknowledgement_does_not_put_old_buttons_under_the_finger(
    floor: FloorHub, browser: Browser
) -> None:
    """A read of the list that left before the acknowledgement's answer and comes back after
    it (a slow network) is drawn before the newer read, never after it."""
    page, calls = _long_inbox(floor, browser)
    target = calls[7]
    held: list[tuple[Route, APIResponse]] = []

    def hold_first_list_read(route: Route) -> None:
        if held or route.request.method != "GET":
            route.continue_()
            return
        held.append((route, route.fetch()))  # the hub's answer now; the page gets it later

    page.route("**/api/calls?*", hold_first_list_read)
    floor.raise_call(FEW, "st01")  # the stream says "changed": the inbox reads its list

    def list_read_held() -> bool:
        page.wait_for_timeout(50)  # the page's events (and the handler) run while it waits
        return bool(held)

    wait_until(list_read_held, what="a list read held")
    card = page.locator(f'.card[data-call="{target}"]')
    card.scroll_into_view_if_needed()
    box = card.locator(".do-acknowledge").bounding_box()
    assert box is not None
    finger = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    answered: list[str] = []
    page.on("requestfinished", lambda request: answered.append(request.url))
    with page.expect_response(lambda r: r.url.endswith(f"/api/calls/{target}/acknowledge")):
        page.mouse.click(*finger)
    # A page that reads again at once (on the answer, and on the stream's word of the
    # acknowledgement) has both newer answers drawn before the held one comes back; one
    # that waits for the held read sends nothing: give either time to show.
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and sum("/api/calls?" in url for url in answered) < 2:
        page.wait_for_timeout(50)
    page.locator(".card").evaluate_all("cards => cards.forEach((c) => { c.dataset.before = 1; })")
    route, stale = held[0]
    route.fulfill(response=stale)  # says the call is still raised

    drawn = page.locator(f'.card[data-call="{target}"][data-done="acknowledge"]:not([data-before])')
    expect(drawn).to_be_visible()
    expect(drawn).to_have_attribute("data-state", "acknowledged")
    expect(drawn.locator(".done")).to_have_text(TEXTS["done_acknowledge"]["en"])
    under = page.evaluate("([x, y]) => document.elementFromPoint(x, y).className", list(finger))
    assert under == "do-arrive"
    page.mouse.click(*finger)
    wait_until(lambda: floor.call(target)["state"] == "arrived", what="the same call arrived")


def test_the_reason_is_empty_until_picked_and_required(floor: FloorHub, browser: Browser) -> None:
    call_id = floor.raise_call(FEW, "st02")
    page = _phone(browser, "zh")
    _signed_in(floor, page, "/inbox")
    card = page.locator(f'.card[data-call="{call_id}"]')
    card.locator(".do-resolve").click()
    select = card.locator("select[name=reason_code]")
    expect(select).to_have_value("")
    expect(select.locator("option:checked")).to_have_text(TEXTS["choose_reason"]["zh"])
    assert select.evaluate("node => node.required")
    card.locator("form.resolve button[type=submit]").click()
    assert select.evaluate("node => node.validity.valueMissing")
    assert floor.call(call_id)["state"] == "raised"  # nothing was sent
    select.select_option("fixture-loose")
    card.locator("form.resolve button[type=submit]").click()
    wait_until(lambda: floor.call(call_id)["state"] == "resolved", what="resolved")
    assert floor.call(call_id)["reason_code"] == "fixture-loose"


def _facts(page: Page) -> dict[str, str]:
    facts = page.locator(".ack-call dd")
    return {
        facts.nth(i).get_attribute("data-fact") or "": facts.nth(i).inner_text()
        for i in range(facts.count())
    }


def test_the_ack_links_page_names_the_call_in_the_persons_language(
    floor: FloorHub, browser: Browser
) -> None:
    call_id = floor.raise_call(FEW, "st01", "maintenance")
    english_browser = _phone(browser, "en")
    # Li Wei reads Chinese (the hub's file says so), whatever the browser asks for.
    li_wei_url = floor.ack_url("li-wei", call_id)
    english_browser.goto(li_wei_url)
    expect(english_browser.locator("h1")).to_have_text(TEXTS["ack_confirm_title"]["zh"])
    assert _facts(english_browser) == {
        "station": "压装", "line": "一号线", "call-type": "设备维修",
        "raised-at": _facts(english_browser)["raised-at"], "person": "Li Wei",
    }  # fmt: skip
    button = english_browser.locator("[data-ack=confirm]")
    assert (button.bounding_box() or {"height": 0})["height"] >= 56  # a thumb's target
    assert button.evaluate("node => getComputedStyle(node).backgroundColor") == "rgb(31, 95, 209)"
    screenshot(english_browser, "ack-link")
    english_browser.locator("#language").click()  # the page's own switch wins
    expect(english_browser.locator("h1")).to_have_text(TEXTS["ack_confirm_title"]["en"])
    assert english_browser.url == f"{li_wei_url}?lang=en"

    # Sam has no language of his own: his browser's decides.
    sam_url = floor.ack_url("sam", call_id)
    english_browser.goto(sam_url)
    expect(english_browser.locator("h1")).to_have_text(TEXTS["ack_confirm_title"]["en"])
    assert _facts(english_browser)["station"] == "Press-fit"
    assert _facts(english_browser)["person"] == "Sam Okafor"
    chinese_browser = _phone(browser, "zh")
    chinese_browser.goto(sam_url)
    expect(chinese_browser.locator("h1")).to_have_text(TEXTS["ack_confirm_title"]["zh"])
    chinese_browser.locator("[data-ack=confirm]").click()
    expect(chinese_browser.locator("h1")).to_have_text(TEXTS["ack_done_title"]["zh"])
    assert floor.call(call_id)["acknowledged_by"] == "sam"
    chinese_browser.goto(sam_url)  # a link works once
    expect(chinese_browser.locator("h1")).to_have_text(TEXTS["ack_refused_title"]["zh"])
    expect(chinese_browser.locator("[data-ack-status]")).to_have_text(TEXTS["ack_used"]["zh"])
