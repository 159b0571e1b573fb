"""The pages in a real browser against a real plant: a press on the PLC turns the board's
tile amber, the inbox acknowledges and resolves it, the call page shows who was told (a
failed attempt and its retry too) and how calls like it were fixed, the reports show the
Pareto and the parts counted, and the board outlives a hub restart.

Every wait polls the DOM with a generous timeout: CI machines are noisy, so no duration
is asserted here (the end-to-end latency is a benchmark's figure)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.helpers.waiting import wait_until
from tests.helpers.web import WebPlant, new_page, screenshot

pytestmark = [pytest.mark.system, pytest.mark.browser]

TILE = '[data-station="{}"]'


def _tile(page: Page, station: str, state: str) -> str:
    return f'{TILE.format(station)}[data-state="{state}"]'


def _open_board(browser: Browser, plant: WebPlant, *, locale: str = "en-GB") -> Page:
    board = new_page(browser, width=1600, height=900, locale=locale)
    board.goto(f"{plant.base_url}/board?token={plant.tokens['viewer']}")
    board.wait_for_selector(_tile(board, "st10", "idle"))
    assert "token=" not in board.url  # dropped from the address bar, kept in the browser
    return board


def _resolve_in_inbox(inbox: Page, station: str, reason: str, note: str) -> None:
    card = inbox.locator(f'.card[data-station="{station}"]')
    if card.locator("form.resolve").is_hidden():
        card.locator(".do-resolve").click()
    card.locator("select").select_option(reason)
    card.locator("textarea[name=note]").fill(note)
    card.locator("form.resolve button[type=submit]").click()


def test_a_press_turns_the_tile_amber_the_inbox_acknowledges_and_resolves_it(
    web_plant: WebPlant, browser: Browser
) -> None:
    board = _open_board(browser, web_plant)
    web_plant.press("st10")
    board.wait_for_selector(_tile(board, "st10", "raised"))
    tile = board.locator(TILE.format("st10"))
    expect(tile).to_have_attribute("data-colour", "amber")
    expect(tile).to_contain_text("Press-fit")
    expect(tile).to_contain_text("Maintenance")
    expect(board.locator("#open-calls")).to_have_text("1")
    web_plant.press("st20")
    board.wait_for_selector(_tile(board, "st20", "raised"))

    inbox = new_page(browser, width=390, height=844)  # a phone
    inbox.goto(f"{web_plant.base_url}/inbox")
    inbox.locator("#login-token").fill(web_plant.tokens["responder"])
    inbox.locator("#login button").click()
    inbox.wait_for_selector('.card[data-station="st10"]')
    inbox.locator('.card[data-station="st10"] .do-acknowledge').click()
    board.wait_for_selector(_tile(board, "st10", "acknowledged"))
    expect(board.locator(TILE.format("st10"))).to_have_attribute("data-colour", "blue")
    expect(board.locator(TILE.format("st10"))).to_contain_text("responder-token")
    screenshot(board, "board")

    inbox.wait_for_selector('.card[data-station="st10"][data-state="acknowledged"]')
    inbox.locator('.card[data-station="st20"] .do-resolve').click()
    inbox.locator('.card[data-station="st20"] select').select_option("fixture-loose")
    screenshot(inbox, "inbox")
    _resolve_in_inbox(inbox, "st10", "tool-worn", "changed the press-fit insert")
    board.wait_for_selector(_tile(board, "st10", "idle"))
    expect(board.locator(TILE.format("st10"))).to_have_attribute("data-colour", "green")
    inbox.wait_for_selector('.card[data-station="st10"]', state="detached")
    _resolve_in_inbox(inbox, "st20", "fixture-loose", "tightened the clamp")
    board.wait_for_selector(_tile(board, "st20", "idle"))

    _next_call_shows_the_last_fix(web_plant, browser, board)
    _reports_show_the_pareto_of_these_calls(web_plant, browser)


def _next_call_shows_the_last_fix(web_plant: WebPlant, browser: Browser, board: Page) -> None:
    web_plant.receiver.fail("/zhang-min", 1)  # her phone's service is down for one attempt
    web_plant.press("st10")
    board.wait_for_selector(_tile(board, "st10", "raised"))
    with web_plant.api() as api:
        newest = api.get("/api/calls", params={"order": "desc", "limit": 1}).json()["calls"][0]
    call = new_page(browser, width=1000, height=900)
    responder = web_plant.tokens["responder"]
    call.goto(f"{web_plant.base_url}/inbox?call={newest['id']}&token={responder}")
    call.wait_for_selector(f'.card.wanted[data-call="{newest["id"]}"]')  # a notification's link
    assert call.url.endswith(f"/inbox?call={newest['id']}")
    call.goto(f"{web_plant.base_url}/calls/{newest['id']}")
    call.wait_for_selector("#recent .fix")
    expect(call.locator("#recent")).to_contain_text("changed the press-fit insert")
    expect(call.locator("#frequent")).to_contain_text("Tool worn")
    _call_page_shows_its_notifications(web_plant, call, newest["id"])
    screenshot(call, "call")
    call.goto(f"{web_plant.base_url}/calls/{newest['id']}?lang=zh")
    expect(call.locator("#notifications h2")).to_have_text("通知记录")
    expect(call.locator('#notifications tr[data-status="failed"]')).to_contain_text("发送失败")
    expect(call.locator('#notifications tr[data-attempt="2"]')).to_contain_text("已发送")


def _call_page_shows_its_notifications(web_plant: WebPlant, call: Page, call_id: int) -> None:
    """Level 0 reached Li Wei at once, and Zhang Min on her second attempt."""
    wait_until(lambda: len(web_plant.receiver.on("/zhang-min")) >= 1, what="the retry")
    received = web_plant.receiver.on("/li-wei")
    assert [r.json()["call_id"] for r in received].count(call_id) == 1
    call.reload()
    rows = call.locator("#notifications tr.notification")
    expect(rows).to_have_count(3)
    li_wei = call.locator('#notifications tr[data-status="sent"]', has_text="Li Wei")
    expect(li_wei).to_contain_text("andon+http://")
    expect(li_wei).not_to_contain_text("s3cret")  # the webhook's secret is redacted
    failed = call.locator('#notifications tr[data-status="failed"][data-attempt="1"]')
    expect(failed).to_contain_text("Zhang Min")
    expect(failed).to_contain_text("Failed")
    expect(failed).to_contain_text("500")
    retried = call.locator('#notifications tr[data-status="sent"][data-attempt="2"]')
    expect(retried).to_contain_text("Zhang Min")
    expect(call.locator("#no-notifications")).to_be_hidden()
    expect(call.locator('#timeline tr[data-action="escalated"]')).to_contain_text("Escalated")


def _count_some_parts(web_plant: WebPlant) -> None:
    """The counters move, so the reports' quality section has figures to show."""
    web_plant.wait_for_counter_bases()
    web_plant.count("st10", made=480, bad=6, rework=9)
    web_plant.count("st20", made=475, bad=2)
    with web_plant.api("viewer") as api:

        def counted() -> list[int]:
            stations = api.get("/api/reports/quality").json()["stations"]
            return sorted(s["figures"]["inspected"] for s in stations)

        wait_until(lambda: counted() == [475, 480], what="parts counted")


def _reports_show_the_pareto_of_these_calls(web_plant: WebPlant, browser: Browser) -> None:
    _count_some_parts(web_plant)
    reports = new_page(browser, width=1200, height=900)
    reports.goto(f"{web_plant.base_url}/reports?token={web_plant.tokens['viewer']}")
    reports.wait_for_selector("body[data-loaded=true]")
    bars = reports.locator("#pareto rect.bar")
    expect(bars).to_have_count(2)
    rows = reports.locator("#by-reason_code tbody tr")
    expect(rows).to_have_count(2)
    expect(reports.locator("#by-station tbody")).to_contain_text("Press-fit")
    fpy = reports.locator(
        '#quality-shifts tr[data-station="st10"][data-shift="all"] [data-figure="fpy"]'
    )
    expect(fpy).to_have_text(f"{(480 - 6 - 9) / 480 * 100:.1f} %")
    screenshot(reports, "reports")


def test_the_board_reconnects_by_itself_when_the_hub_restarts(
    web_plant: WebPlant, browser: Browser
) -> None:
    board = _open_board(browser, web_plant, locale="zh-CN")
    expect(board.locator(TILE.format("st10"))).to_contain_text("压装")
    assert web_plant.hub.stop() == 0  # an open stream does not hold the stop up
    board.wait_for_selector("body[data-connected=false]")
    expect(board.locator("#status")).to_contain_text("正在重连")
    web_plant.hub.start()
    web_plant.wait_healthy()
    board.wait_for_selector("body[data-connected=true]")
    web_plant.press("st20")
    board.wait_for_selector(_tile(board, "st20", "raised"))
    expect(board.locator("#status")).to_be_hidden()
    screenshot(board, "board-zh")


def test_a_board_says_why_its_token_is_refused_and_a_line_board_shows_its_line(
    web_plant: WebPlant, browser: Browser
) -> None:
    board = new_page(browser, width=1600, height=900)
    board.goto(f"{web_plant.base_url}/board/line1?token={web_plant.tokens['viewer-line2']}")
    expect(board.locator("#status")).to_contain_text("limited to lines line2")
    assert board.locator("[data-station]").count() == 0
    board.goto(f"{web_plant.base_url}/board/line2")  # the token stays in this browser
    board.wait_for_selector(_tile(board, "st40", "idle"))
    assert board.locator("[data-station]").count() == 1
