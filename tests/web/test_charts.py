"""The engineer's control charts against a real hub process: measurement messages go
through a real Mosquitto as an edge sends them, the point stream sends each new point of
its characteristic to the lines its token may read, and the chart page in Chromium shows
a planted SPC violation as a flagged point with its test number, live."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from playwright.sync_api import Browser, expect

from contract.wire import MeasurementEvent, Topics, event_json, make_event_id, utc_now
from testbed.broker import MosquittoBroker
from tests.plant import wait_until
from tests.web.conftest import WebPlant, new_page, screenshot

pytestmark = pytest.mark.system

GAUGE = "gauge-line1"  # an edge of its own, so its sequence numbers are its own


class Gauge:
    """Publishes measurement messages to the hub as an edge does, one per poll cycle."""

    def __init__(self, broker: MosquittoBroker, prefix: str) -> None:
        self._topic = Topics(prefix).measurement("plant1", GAUGE)
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id=GAUGE)
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        self._seq = 0

    def send(self, points: list[dict[str, Any]], at: datetime | None = None) -> None:
        self._seq += 1
        event = MeasurementEvent.model_validate(
            {
                "event_id": make_event_id(GAUGE, self._seq), "edge_id": GAUGE,
                "seq": self._seq, "ts": at or utc_now(), "site": "plant1",
                "area": "assembly", "line": "line1", "kind": "measurement",
                "payload": {"readings": [], "points": points},
            }
        )  # fmt: skip
        self._client.publish(self._topic, event_json(event), qos=1).wait_for_publish(5)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


@pytest.fixture
def gauge(web_plant: WebPlant, broker: MosquittoBroker, topic_prefix: str) -> Iterator[Gauge]:
    """A gauge whose messages the hub takes: the hub's measurement process subscribes a
    moment after the hub is healthy, and a message sent before that reaches no one."""
    sender = Gauge(broker, topic_prefix)
    probe = {**bore(1, 1.0), "station": "st30", "characteristic": "probe", "measurement": "p"}

    def taken() -> bool:
        sender.send([probe])
        with web_plant.api() as api:
            listed = api.get("/api/characteristics", params={"station": "st30"}).json()
        return bool(listed["characteristics"])

    wait_until(taken, what="the hub's measurement path takes messages")
    yield sender
    sender.close()


def bore(subgroup: int, value: float, *tests: int, station: str = "st10") -> dict[str, Any]:
    return {
        "station": station, "characteristic": "bore", "chart": "imr", "measurement": "bore_mm",
        "subgroup": subgroup, "value": value, "center": 10.0, "lcl": 9.7, "ucl": 10.3,
        "tests": list(tests), "part": {"serial": f"SN{subgroup:04d}"}, "unit": "mm",
    }  # fmt: skip


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


def _stored(plant: WebPlant, count: int) -> None:
    with plant.api() as api:
        wait_until(
            lambda: len(api.get("/api/characteristics/bore/points").json()["points"]) >= count,
            what=f"{count} points stored",
        )


@pytest.mark.browser
def test_a_planted_violation_shows_on_the_chart_with_its_test_number(
    web_plant: WebPlant, gauge: Gauge, browser: Browser
) -> None:
    start = utc_now() - timedelta(minutes=30)
    values = [10.02, 9.95, 10.08, 9.9, 10.05, 9.98, 10.11, 9.93, 10.0, 10.04, 9.97, 10.06]
    for subgroup, value in enumerate(values, start=1):
        gauge.send([bore(subgroup, value)], at=start + timedelta(minutes=subgroup))
    gauge.send([bore(13, 10.42, 1)], at=start + timedelta(minutes=13))  # beyond the UCL
    _stored(web_plant, 13)
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
