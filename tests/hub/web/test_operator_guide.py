"""docs/operator-guide.md against a running plant: every address it shows opens the page
it describes, its acknowledgement link acknowledges, its command cancels a call and
prints what the guide shows, its light table is what rules/lights.py decides, and the
button names it quotes are the pages' words in both languages."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from hub.web.i18n import TEXTS
from rules.lights import OpenCall, station_light
from tests.helpers.waiting import wait_until
from tests.helpers.web import WebPlant, new_page

GUIDE = Path(__file__).parents[3] / "docs" / "operator-guide.md"
HUB = "http://andon-hub:8000"
EXAMPLE_CALL = "42"  # the call number the guide's examples use
PAGE_TITLES = {"board": "Andon board", "inbox": "Inbox", "calls": "Call", "reports": "Reports"}


def guide() -> str:
    return GUIDE.read_text()


def guide_urls() -> list[str]:
    return sorted(set(re.findall(re.escape(HUB) + r"/[^\s`)]*", guide())))


def light_rows() -> list[list[str]]:
    """The rows of the guide's tower-light table, cells stripped."""
    table = guide().split("| what is happening |", 1)[1].split("\n\n", 1)[0]
    rows = [line.strip().strip("|").split("|") for line in table.splitlines()[2:]]
    return [[cell.strip() for cell in row] for row in rows]


def test_the_guides_tower_light_table_is_what_the_light_shows() -> None:
    rows = light_rows()
    assert len(rows) == 7  # idle, and three states with and without a line-down call
    for _what, state, line_down, colour, flashing, buzzer in rows:
        calls = [] if state == "idle" else [OpenCall(state, line_down=line_down == "yes")]
        light = station_light(calls)
        shown = (light.state, light.colour.value, light.flashing, light.buzzer)
        assert shown == (state, colour, flashing == "yes", buzzer == "yes"), state


def test_the_button_names_the_guide_quotes_are_the_pages_words() -> None:
    quoted = re.findall(r"\*\*([^*]+)\*\* \(([^)]+)\)", guide())
    assert len(quoted) >= 6
    pairs = {(words["en"], words["zh"]) for words in TEXTS.values()}
    assert [pair for pair in quoted if pair not in pairs] == []


@pytest.mark.system
@pytest.mark.browser
def test_every_address_and_command_of_the_operator_guide_works(
    web_plant: WebPlant, browser: Browser
) -> None:
    web_plant.press("st10")  # a maintenance call: it escalates to the receiver
    message = wait_until(lambda: web_plant.receiver.on("/li-wei"), what="a notification")[0]
    ack_url, call_id = message.json()["ack_url"], message.json()["call_id"]
    assert ack_url.startswith(f"{web_plant.base_url}/ack/")
    urls = guide_urls()
    assert len(urls) >= 8
    for url in urls:
        concrete = (
            url.replace(HUB, web_plant.base_url)
            .replace(f"/{EXAMPLE_CALL}", f"/{call_id}")
            .replace(f"={EXAMPLE_CALL}", f"={call_id}")
            .replace("token=...", f"token={web_plant.tokens['viewer']}")
        )
        if "/ack/" in url:
            _acknowledge_from_the_link(web_plant, browser, ack_url, call_id)
            continue
        with web_plant.api() as api:
            answer = api.get(concrete)
        assert answer.status_code == 200, url
        page = concrete.removeprefix(web_plant.base_url).split("?")[0].split("/")[1]
        assert f"<title>{PAGE_TITLES[page]} · plant1</title>" in answer.text, url
        if page == "calls":
            assert f"#{call_id}</h1>" in answer.text
    _open_calls_inbox_page(web_plant, browser, call_id)
    _cancel_as_the_guide_shows(web_plant)


def _acknowledge_from_the_link(
    plant: WebPlant, browser: Browser, ack_url: str, call_id: int
) -> None:
    page = new_page(browser, width=390, height=844)
    page.goto(ack_url)
    expect(page.locator("h1")).to_have_text("Acknowledge this call?")
    page.locator("[data-ack=confirm]").click()
    expect(page.locator("h1")).to_have_text("Acknowledged")
    page.goto(ack_url)  # a link works once
    expect(page.locator("h1")).to_have_text("Link refused")
    with plant.api() as api:
        assert api.get(f"/api/calls/{call_id}").json()["state"] == "acknowledged"


def _open_calls_inbox_page(plant: WebPlant, browser: Browser, call_id: int) -> None:
    """The guide's ``/inbox?call=42`` lands on that call, outlined; the acknowledged call's
    tile is blue, and after **Arrived** steady amber, as the guide's light table says."""
    board = new_page(browser, width=1600, height=900)
    board.goto(f"{plant.base_url}/board?token={plant.tokens['viewer']}")
    tile = board.locator('[data-station="st10"]')
    expect(tile).to_have_attribute("data-state", "acknowledged")
    expect(tile).to_have_attribute("data-colour", "blue")
    page = new_page(browser, width=390, height=844)
    responder = plant.tokens["responder"]
    page.goto(f"{plant.base_url}/inbox?call={call_id}&token={responder}")
    page.wait_for_selector(f'.card.wanted[data-call="{call_id}"]')
    page.locator(f'.card[data-call="{call_id}"] .do-arrive').click()
    expect(tile).to_have_attribute("data-state", "arrived")
    expect(tile).to_have_attribute("data-colour", "amber")
    expect(tile).not_to_have_class(re.compile("flashing"))


def _cancel_as_the_guide_shows(plant: WebPlant) -> None:
    command, printed = re.findall(r"```sh\n(.*?)```\n\n```text\n(.*?)```", guide(), re.DOTALL)[0]
    plant.press("st20")  # a quality call pressed by mistake
    with plant.api() as api:
        call = wait_until(
            lambda: [c for c in api.get("/api/calls").json()["calls"] if c["station"] == "st20"],
            what="the st20 call",
        )[0]
    env = {
        **os.environ,
        "HUB": plant.base_url,
        "TOKEN": plant.tokens["station"],
        "CALL": str(call["id"]),
    }
    done = subprocess.run(
        ["bash", "-c", f"set -eo pipefail\n{command}"], env=env, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == printed
    with plant.api() as api:
        after = api.get(f"/api/calls/{call['id']}").json()
    assert after["state"] == "cancelled"
    assert [e["detail"].get("cancel_reason") for e in after["timeline"]][-1] == "pressed by mistake"
