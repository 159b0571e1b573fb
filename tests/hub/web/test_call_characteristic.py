"""A call raised for an SPC anomaly shows, on its page in a real browser, how an earlier
call on the same characteristic was fixed at another station; a call on another
characteristic says it has none. Any call's page lists the anomalies at its station, with
"raise a call" for a token that may raise, and says whom its escalation told. The
anomalies go through Mosquitto as an edge's SPC core publishes them."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from testbed.broker import MosquittoBroker
from tests.helpers.charts import SpcEdge
from tests.helpers.waiting import wait_until
from tests.helpers.web import WebPlant, new_page, screenshot

pytestmark = [pytest.mark.system, pytest.mark.browser]


def test_a_call_on_a_characteristic_shows_the_fix_made_at_another_station(
    web_plant: WebPlant, browser: Browser, broker: MosquittoBroker, topic_prefix: str
) -> None:
    edge = SpcEdge(web_plant, broker, topic_prefix)
    first = edge.call_for(edge.anomaly("st10", "bore"))
    with web_plant.api("responder") as api:
        resolved = api.post(
            f"/api/calls/{first}/resolve",
            json={"reason_code": "tool-worn", "note": "new boring bar insert"},
        )
        assert resolved.status_code == 200, resolved.text
    again = edge.call_for(edge.anomaly("st20", "bore"))
    other = edge.call_for(edge.anomaly("st30", "flatness"))

    page = new_page(browser, width=1000, height=900)
    page.goto(f"{web_plant.base_url}/calls/{again}?token={web_plant.tokens['viewer']}")
    page.wait_for_selector("#characteristic-recent .fix")
    fix = page.locator('#characteristic-recent .fix[data-station="st10"]')
    expect(fix).to_contain_text("new boring bar insert")
    expect(fix).to_contain_text("Press-fit")  # where it was fixed
    expect(page.locator("#characteristic-name")).to_have_text("bore")
    expect(page.locator("#characteristic-frequent")).to_contain_text("Tool worn")
    expect(page.locator("#call")).to_contain_text("bore")
    screenshot(page, "call-characteristic")

    page.goto(f"{web_plant.base_url}/calls/{other}")
    expect(page.locator("#no-characteristic-fixes")).to_be_visible()
    expect(page.locator("#characteristic-recent .fix")).to_have_count(0)


def test_a_calls_page_lists_its_stations_anomalies_and_says_whom_its_escalation_told(
    web_plant: WebPlant, browser: Browser, broker: MosquittoBroker, topic_prefix: str
) -> None:
    edge = SpcEdge(web_plant, broker, topic_prefix)
    here = edge.anomaly("st10", "bore")
    elsewhere = edge.anomaly("st20", "bore")
    body = {"area": "assembly", "line": "line1", "station": "st10", "call_type": "maintenance"}
    with web_plant.api("station") as api:
        raised = api.post("/api/calls", json=body)
    assert raised.status_code == 201, raised.text
    call_id = raised.json()["id"]

    page = new_page(browser, width=1000, height=900)
    page.goto(f"{web_plant.base_url}/calls/{call_id}?token={web_plant.tokens['viewer']}")
    row = page.locator(f'#anomalies tr[data-anomaly="{here}"]')
    expect(row).to_contain_text("bore")
    expect(row.locator("button.raise-call")).to_have_count(0)  # a viewer may not raise
    expect(page.locator(f'#anomalies tr[data-anomaly="{elsewhere}"]')).to_have_count(0)
    # Level 0 told both maintenance people; the row says so by their names.
    escalated = page.locator('#timeline tr[data-action="escalated"]')

    def escalated_rows() -> int:
        page.reload()
        page.wait_for_selector('#timeline tr[data-action="raised"]')
        return escalated.count()

    wait_until(escalated_rows, what="the escalation's row")
    expect(escalated).to_contain_text("Level 0: Li Wei, Zhang Min")
    page.context.close()

    page = new_page(browser, width=1000, height=900)
    page.goto(f"{web_plant.base_url}/calls/{call_id}?token={web_plant.tokens['station']}")
    page.locator(f'#anomalies tr[data-anomaly="{here}"] button.raise-call').click()
    link = page.locator(f'#anomalies tr[data-anomaly="{here}"] a.raised-call')
    expect(link).to_be_visible()
    with web_plant.api("viewer") as api:
        raised_call = api.get(f"/api/calls/{link.get_attribute('data-call')}").json()
    assert (raised_call["station"], raised_call["call_type"]) == ("st10", "quality")
    assert raised_call["characteristic"] == "bore"
    page.context.close()
