"""Every page in Chinese, in a real browser against a real plant, holds no English word of
our own: the board (all lines, one line, a kiosk), the inbox on a phone, a call's page
(its timeline, notifications, anomalies and fixes) and a resolved one's, the control
charts and one chart, the reports, and the acknowledgement link's page in each of its
states (asking, done, used).

The English words are those of the pages' English catalog (hub/web/i18n.py) that no
Chinese entry uses as well (CSV, UTC); what the test plant itself names in Latin letters
(its site, tokens, people, the gauge's characteristic and unit, channel addresses) is
taken out of a page's text before its words are compared."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from contract.wire import utc_now
from hub.web.i18n import TEXTS
from testbed.broker import MosquittoBroker
from tests.helpers.charts import Gauge, SpcEdge, bore, stored
from tests.helpers.chinese import ENGLISH, PAGE_TEXT, english_words
from tests.helpers.floor import PHONE
from tests.helpers.waiting import wait_until
from tests.helpers.web import WebPlant, new_page

pytestmark = [pytest.mark.system, pytest.mark.browser]

ACK_LINKS = re.compile(r"http://\S+/ack/\S+")


class Walk:
    """One browser in Chinese going from page to page, noting each page's English words."""

    def __init__(self, browser: Browser, plant: WebPlant) -> None:
        self.page = new_page(browser, width=1280, height=900, locale="zh-CN")
        self.plant = plant
        self.found: dict[str, list[str]] = {}

    def visit(self, path: str, *ready: str) -> Page:
        self.page.goto(f"{self.plant.base_url}{path}")
        return self.check(path, *ready)

    def check(self, name: str, *ready: str) -> Page:
        for selector in ready:
            self.page.wait_for_selector(selector, state="attached")
        expect(self.page.locator("html")).to_have_attribute("lang", "zh-CN")
        words = english_words(self.page.evaluate(PAGE_TEXT))
        if words:
            self.found[name] = words
        return self.page


def _raise(plant: WebPlant, station: str, call_type: str) -> int:
    body = {"area": "assembly", "line": "line1", "station": station, "call_type": call_type}
    with plant.api("station") as api:
        raised = api.post("/api/calls", json=body)
    assert raised.status_code == 201, raised.text
    call_id: int = raised.json()["id"]
    return call_id


def _fix(plant: WebPlant, call_id: int) -> None:
    """Acknowledged, arrived and resolved with a reason: the next call shows the fix."""
    with plant.api("responder") as api:
        for action, body in (
            ("acknowledge", None),
            ("arrive", None),
            ("resolve", {"reason_code": "tool-worn", "note": "更换压装头"}),
        ):
            done = api.post(f"/api/calls/{call_id}/{action}", json=body)
            assert done.status_code == 200, done.text


def _sent_to_both(plant: WebPlant, call_id: int) -> list[dict[str, Any]]:
    with plant.api() as api:
        log: list[dict[str, Any]] = api.get(f"/api/calls/{call_id}/notifications").json()[
            "notifications"
        ]
    return (
        log
        if {n["person"] for n in log if n["status"] == "sent"} >= {"li-wei", "zhang-min"}
        else []
    )


def _chart_and_anomaly(plant: WebPlant, gauge: Gauge, spc: SpcEdge) -> int:
    """Points of the gauge's bore at st10, the last beyond its limit, and its anomaly."""
    start = utc_now() - timedelta(minutes=20)
    for subgroup, value in enumerate([10.02, 9.95, 10.08, 9.9, 10.05], start=1):
        gauge.send([bore(subgroup, value)], at=start + timedelta(minutes=subgroup))
    gauge.send([bore(6, 10.42, 1)], at=start + timedelta(minutes=6))
    stored(plant, 6)
    return spc.anomaly("st10", "bore")


def test_every_page_in_chinese_has_no_english_word_of_our_own(
    web_plant: WebPlant,
    gauge: Gauge,
    browser: Browser,
    broker: MosquittoBroker,
    topic_prefix: str,
) -> None:
    assert {"call", "level", "min", "s", "acknowledge"} <= ENGLISH  # the list is not empty
    anomaly = _chart_and_anomaly(web_plant, gauge, SpcEdge(web_plant, broker, topic_prefix))
    fixed = _raise(web_plant, "st10", "maintenance")
    _fix(web_plant, fixed)
    waiting = _raise(web_plant, "st10", "maintenance")  # told to Li Wei and Zhang Min at once
    wait_until(lambda: _sent_to_both(web_plant, waiting), what="both told")
    web_plant.press("st20")  # a quality call from the station's button, through the edge

    walk = Walk(browser, web_plant)
    page = walk.visit(
        f"/board?token={web_plant.tokens['admin']}", '[data-station="st20"][data-state="raised"]'
    )
    expect(page.locator('[data-station="st10"] .tile-age')).to_contain_text("秒")
    walk.visit("/board/line1", '#board-line:has-text("一号线")', '[data-station="st10"]')
    walk.visit("/board?kiosk=1", '[data-station="st10"][data-state="raised"]')
    call = walk.visit(
        f"/calls/{waiting}",
        '#timeline tr[data-action="escalated"]',
        "#notifications tr.notification",
        f'#anomalies tr[data-anomaly="{anomaly}"] button.raise-call',
        "#recent .fix",
    )
    escalated = call.locator('#timeline tr[data-action="escalated"]')
    expect(escalated).to_contain_text("级别 0：")
    expect(escalated).to_contain_text("Li Wei")
    expect(escalated).to_contain_text("Zhang Min")
    walk.visit(f"/calls/{fixed}", '#timeline tr[data-action="resolved"]', "#recent")
    walk.visit("/charts", '#characteristics tr[data-characteristic="bore"]')
    walk.visit(
        "/charts/bore?line=line1&station=st10",
        "svg.spc .point.flagged",
        f'#anomalies tr[data-anomaly="{anomaly}"]',
    )
    walk.visit("/reports", "body[data-loaded=true]")

    page.set_viewport_size({"width": PHONE["width"], "height": PHONE["height"]})
    _ack_link_pages(walk, web_plant, waiting)
    inbox = walk.visit("/inbox", '.card[data-station="st20"]')
    inbox.locator('.card[data-station="st20"] .do-acknowledge').click()
    walk.check("/inbox, acknowledged", '.card[data-station="st20"][data-done="acknowledge"]')
    inbox.locator('.card[data-station="st20"] .do-resolve').click()
    walk.check("/inbox, resolving", '.card[data-station="st20"] form.resolve:not([hidden])')
    assert walk.found == {}, "English words of our own on Chinese pages"


def _ack_link_pages(walk: Walk, plant: WebPlant, call_id: int) -> None:
    """Li Wei's link asking, after its button, and opened again (used); Zhang Min's
    newest link (in her message's text) once its call is acknowledged: nothing to
    acknowledge."""
    (link,) = [
        r.json()["ack_url"] for r in plant.receiver.on("/li-wei") if r.json()["call_id"] == call_id
    ]
    page = walk.visit(link.removeprefix(plant.base_url), "[data-ack=confirm]")
    page.locator("[data-ack=confirm]").click()
    walk.check("the link, acknowledged", '[data-ack-status="200"]')
    walk.visit(link.removeprefix(plant.base_url), '[data-ack-status="410"]')
    messages = [r.json()["message"] for r in plant.receiver.on("/zhang-min")]
    other = [found for text in messages for found in ACK_LINKS.findall(text)][-1]  # the newest
    walk.visit(other.removeprefix(plant.base_url), '[data-ack-status="409"]')


def test_every_entry_of_the_catalog_is_in_both_languages() -> None:
    missing = [
        key
        for key, words in TEXTS.items()
        if sorted(k for k, v in words.items() if v) != ["en", "zh"]
    ]
    assert missing == []
