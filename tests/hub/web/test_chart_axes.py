"""The control chart's axes and labels in a real browser, and "raise a call" from an
anomaly: values with the measurement's unit, subgroups and times along the bottom, no
two labels overlapping and none outside the chart even when most points fail tests;
the action offered to a token that may raise and not to one that may not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from contract.wire import utc_now
from testbed.broker import MosquittoBroker
from tests.helpers.charts import Gauge, SpcEdge, bore, stored
from tests.helpers.web import WebPlant, new_page

pytestmark = [pytest.mark.system, pytest.mark.browser]

# Every text label of the chart and the chart's own box, in the page's pixels (rotated
# labels by the box they cover on screen).
BOXES = """(svg) => ({
  chart: svg.getBoundingClientRect().toJSON(),
  labels: [...svg.querySelectorAll('text')].map((node) => ({
    text: node.textContent, cls: node.getAttribute('class'),
    ...node.getBoundingClientRect().toJSON(),
  })),
})"""


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    )


def _assert_labels_apart_and_inside(page: Page) -> list[dict[str, Any]]:
    boxes = page.locator("svg.spc").evaluate(BOXES)
    chart, labels = boxes["chart"], boxes["labels"]
    for label in labels:
        assert label["width"] > 0, label
        assert chart["left"] <= label["left"], label
        assert label["right"] <= chart["right"], label
        assert chart["top"] <= label["top"], label
        assert label["bottom"] <= chart["bottom"], label
    for i, first in enumerate(labels):
        for second in labels[i + 1 :]:
            assert not _overlap(first, second), (first, second)
    return list(labels)


def test_the_axes_carry_values_with_the_unit_and_labels_thin_out_when_many_points_fail(
    web_plant: WebPlant, gauge: Gauge, browser: Browser
) -> None:
    start = utc_now() - timedelta(hours=2)
    count = 80
    for subgroup in range(1, count + 1):
        # Three in four fail: alternately far above and far below the limits.
        failing = subgroup % 4 != 0
        value = (10.45 if subgroup % 2 else 9.55) if failing else 10.0
        tests = (1, 5) if failing else ()
        point = bore(subgroup, value, *tests)
        gauge.send([point], at=start + timedelta(minutes=subgroup))
    stored(web_plant, count)
    page = new_page(browser, width=1280, height=900)
    page.goto(f"{web_plant.base_url}/charts/bore?line=line1&station=st10"
              f"&token={web_plant.tokens['engineer']}")  # fmt: skip
    flagged = page.locator("svg.spc .point.flagged")
    expect(flagged).to_have_count(60)
    expect(page.locator("svg.spc .y-title")).to_have_text("bore_mm (mm)")
    expect(page.locator("#settings")).to_contain_text("mm")
    labels = _assert_labels_apart_and_inside(page)
    numbers = [label for label in labels if label["cls"] == "test-number"]
    assert 0 < len(numbers) < 60
    assert all(label["text"] == "1,5" for label in numbers)
    ticks = [float(label["text"]) for label in labels if "tick-value" in (label["cls"] or "")]
    assert len(ticks) >= 3
    assert min(ticks) <= 9.7  # the ticks span the limits
    assert max(ticks) >= 10.3
    subgroups = [int(label["text"]) for label in labels if "subgroup-number" in label["cls"]]
    assert subgroups[0] == 1
    assert subgroups == sorted(subgroups)
    assert len(subgroups) <= 10
    assert len([label for label in labels if "time-label" in label["cls"]]) == 2
    # A flagged point whose number was thinned out still says its tests.
    hidden = page.locator('svg.spc .point.flagged[data-label-hidden="true"]')
    expect(hidden.first).to_have_attribute("data-tests", "1,5")
    page.context.close()


def test_a_few_points_near_the_limits_keep_every_label_apart(
    web_plant: WebPlant, gauge: Gauge, browser: Browser
) -> None:
    # One far point squeezes the limits together: their labels must still not collide.
    start = utc_now() - timedelta(minutes=10)
    for subgroup, value in enumerate([10.0, 10.1, 9.9, 60.0], start=1):
        tests = (1,) if value > 10.3 else ()
        point = bore(subgroup, value, *tests)
        del point["unit"]  # as an edge from before units were sent
        gauge.send([point], at=start + timedelta(minutes=subgroup))
    stored(web_plant, 4)
    page = new_page(browser, width=1280, height=900, locale="zh-CN")
    page.goto(f"{web_plant.base_url}/charts/bore?lang=zh&token={web_plant.tokens['engineer']}")
    expect(page.locator("svg.spc .point")).to_have_count(4)
    expect(page.locator("svg.spc .y-title")).to_have_text("bore_mm")  # no unit was sent
    # Times in the browser's locale (zh-CN here), as every date on the pages.
    first = (start + timedelta(minutes=1)).isoformat()
    written = page.evaluate("(iso) => new Date(iso).toLocaleString()", first)
    expect(page.locator("svg.spc .time-label").first).to_have_text(written)
    _assert_labels_apart_and_inside(page)
    page.context.close()


def test_a_station_token_raises_a_call_from_an_anomaly_and_a_viewer_is_not_offered_it(
    web_plant: WebPlant, broker: MosquittoBroker, topic_prefix: str, browser: Browser
) -> None:
    edge = SpcEdge(web_plant, broker, topic_prefix)
    anomaly = edge.anomaly("st10", "bore")
    page = new_page(browser, width=1280, height=900)
    page.goto(f"{web_plant.base_url}/charts/bore?token={web_plant.tokens['viewer']}")
    row = page.locator(f'#anomalies tr[data-anomaly="{anomaly}"]')
    expect(row).to_be_visible()
    expect(row.locator("button.raise-call")).to_have_count(0)
    page.context.close()
    page = new_page(browser, width=1280, height=900)
    page.goto(f"{web_plant.base_url}/charts/bore?token={web_plant.tokens['station']}")
    row = page.locator(f'#anomalies tr[data-anomaly="{anomaly}"]')
    row.locator("button.raise-call").click()
    link = row.locator("a.raised-call")
    expect(link).to_be_visible()
    call_id = int(link.get_attribute("data-call") or 0)
    with web_plant.api("viewer") as api:
        call = api.get(f"/api/calls/{call_id}").json()
    assert (call["station"], call["call_type"], call["state"]) == ("st10", "quality", "raised")
    with web_plant.api("viewer") as api:
        suggestions = api.get(f"/api/calls/{call_id}/suggestions").json()
    assert suggestions["characteristic"] == "bore"
    page.context.close()
