"""Recurrences in a real browser: a press at a station soon after a fix there, resolved in
the inbox with the same reason, is refused until the responder gives a root cause and a
countermeasure (the plant's engineer asked for them on maintenance calls); the call's
page names the call it recurs and keeps both; an SPC call on a characteristic fixed at
its station lately shows as a recurrence on the board while it is open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Browser, expect

from testbed.broker import MosquittoBroker
from tests.helpers.charts import SpcEdge
from tests.helpers.web import WebPlant, new_page

pytestmark = [pytest.mark.system, pytest.mark.browser]

ROOT_CAUSE = "press-fit insert worn past its limit"
COUNTERMEASURE = "insert changed every 5000 parts"


def _ask_for_root_causes(plant: WebPlant) -> None:
    """The engineer sets root_cause_required on maintenance calls and reloads the hub."""
    path = Path(plant.hub.args[-1])
    settings: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    for call_type in settings["call_types"]:
        call_type["root_cause_required"] = call_type["id"] == "maintenance"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    with plant.api("admin") as api:
        assert api.post("/api/admin/reload").status_code == 200


def _open_call(plant: WebPlant, station: str) -> dict[str, Any]:
    with plant.api("viewer") as api:
        found = api.get("/api/calls", params={"station": station, "state": "raised"}).json()
    call: dict[str, Any] = found["calls"][0]
    return call


def test_a_recurrence_asks_for_its_root_cause_and_shows_on_its_page_and_the_board(
    web_plant: WebPlant, browser: Browser, broker: MosquittoBroker, topic_prefix: str
) -> None:
    _ask_for_root_causes(web_plant)
    web_plant.press("st10")
    first = _open_call(web_plant, "st10")
    with web_plant.api("responder") as api:
        fixed = api.post(f"/api/calls/{first['id']}/resolve", json={"reason_code": "tool-worn"})
        assert fixed.status_code == 200, fixed.text
    web_plant.press("st10")
    again = _open_call(web_plant, "st10")

    inbox = new_page(browser, width=390, height=844)
    inbox.goto(f"{web_plant.base_url}/inbox?token={web_plant.tokens['responder']}")
    card = inbox.locator(f'.card[data-call="{again["id"]}"]')
    card.locator(".do-resolve").click()
    expect(card.locator(".root-cause")).to_be_hidden()  # not known to recur before its reason
    card.locator("select").select_option("tool-worn")
    card.locator("form.resolve button[type=submit]").click()
    expect(card.locator(".error")).to_contain_text(f"recurs call {first['id']}")
    expect(card.locator(".root-cause")).to_be_visible()
    card.locator("textarea[name=root_cause]").fill(ROOT_CAUSE)
    card.locator("textarea[name=countermeasure]").fill(COUNTERMEASURE)
    card.locator("form.resolve button[type=submit]").click()
    expect(card).to_have_count(0)

    page = new_page(browser, width=1000, height=900)
    page.goto(f"{web_plant.base_url}/calls/{again['id']}?token={web_plant.tokens['viewer']}")
    recurrence = page.locator(f'#call dd.recurrence[data-recurrence-of="{first["id"]}"]')
    expect(recurrence).to_have_text(f"Recurs call #{first['id']}")
    expect(recurrence.locator("a")).to_have_attribute("href", f"/calls/{first['id']}")
    expect(page.locator("#call")).to_contain_text(ROOT_CAUSE)
    expect(page.locator("#call")).to_contain_text(COUNTERMEASURE)

    # An SPC call on a characteristic fixed at st20 lately recurs from its raise.
    edge = SpcEdge(web_plant, broker, topic_prefix)
    spc_first = edge.call_for(edge.anomaly("st20", "torque"))
    with web_plant.api("responder") as api:
        fixed = api.post(f"/api/calls/{spc_first}/resolve", json={"reason_code": "fixture-loose"})
        assert fixed.status_code == 200, fixed.text
    edge.call_for(edge.anomaly("st20", "torque"))
    board = new_page(browser, width=1200, height=800)
    board.goto(f"{web_plant.base_url}/board?token={web_plant.tokens['viewer']}")
    mark = board.locator('.tile[data-station="st20"] .tile-recurrence')
    expect(mark).to_have_attribute("data-recurrence-of", str(spc_first))
    expect(mark).to_have_text(f"Recurs call #{spc_first}")

    # The reports count both recurrences: st10's and st20's, one in two fixes each.
    reports = new_page(browser, width=1200, height=900)
    reports.goto(f"{web_plant.base_url}/reports?token={web_plant.tokens['viewer']}")
    reports.wait_for_selector("#recurrences[data-loaded=true]")
    st10 = reports.locator('#recurrences-station tr[data-key="line1/st10"]')
    expect(st10.locator('[data-figure="recurrences"]')).to_have_text("1")
    expect(st10.locator('[data-figure="resolved"]')).to_have_text("2")
    expect(st10.locator('[data-figure="rate"]')).to_have_text("50.0 %")
    tool_worn = reports.locator('#recurrences-reason_code tr[data-key="tool-worn"]')
    expect(tool_worn.locator('[data-figure="recurrences"]')).to_have_text("1")
