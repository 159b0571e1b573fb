"""A person signs in on a page with a name and password, in a real browser against a real
hub: a wrong password is refused on the form, the right one shows the person's name, what
they do is named after them in the call's timeline, and signing out ends the sign-in at
the hub. A pasted API token still works beside the form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from testbed.broker import MosquittoBroker
from tests.helpers.floor import FEW, PHONE, FloorHub, floor_hub
from tests.helpers.web import new_page, screenshot

pytestmark = [pytest.mark.system, pytest.mark.browser]

PASSWORD = "correct horse battery"


@pytest.fixture
def floor(tmp_path: Path, broker: MosquittoBroker, topic_prefix: str) -> Iterator[FloorHub]:
    with floor_hub(tmp_path, broker, topic_prefix) as started:
        yield started


def test_a_person_signs_in_acts_under_their_name_and_signs_out(
    floor: FloorHub, browser: Browser
) -> None:
    with floor.api("admin") as admin:
        made = admin.post("/api/admin/users", json={
            "name": "sam.okafor", "role": "responder", "person": "sam", "password": PASSWORD,
        })  # fmt: skip
        assert made.status_code == 201, made.text
    call_id = floor.raise_call(FEW, "st01", "maintenance")
    page = new_page(browser, width=PHONE["width"], height=PHONE["height"])
    page.goto(f"{floor.base_url}/inbox")
    expect(page.locator("#sign-in")).to_be_visible()
    page.locator("#sign-in-name").fill("sam.okafor")
    page.locator("#sign-in-password").fill("not the password")
    page.locator("#sign-in button").click()
    expect(page.locator("#sign-in-error")).to_have_text("Wrong name or password.")
    page.locator("#sign-in-password").fill(PASSWORD)
    page.locator("#sign-in button").click()
    expect(page.locator("#sign-in")).to_be_hidden()
    card = page.locator(f'.card[data-call="{call_id}"]')
    card.locator(".do-acknowledge").click()
    expect(card).to_contain_text("by Sam Okafor")
    page.locator("#menu-toggle").click()
    expect(page.locator("#signed-in")).to_have_text("Sam Okafor")  # the people: entry's name
    screenshot(page, "signed-in-inbox")
    page.goto(f"{floor.base_url}/calls/{call_id}")
    expect(page.locator("#timeline tbody")).to_contain_text("Sam Okafor")
    token = page.evaluate("localStorage.getItem('andon_token')")
    with floor.api("admin") as admin:
        timeline = admin.get(f"/api/calls/{call_id}").json()["timeline"]
        assert ("acknowledged", "sam") in [(e["action"], e["actor"]) for e in timeline]
        audit = [(e["actor"], e["action"]) for e in admin.get("/api/audit").json()["entries"]]
        assert ("sam", "signed_in") in audit
    page.locator("#menu-toggle").click()
    page.locator("#sign-out").click()
    expect(page.locator("#sign-in")).to_be_visible()
    with floor.api("viewer") as client:
        refused = client.get("/api/token", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401  # ended at the hub, not only forgotten here
    # A machine's token, pasted below the form, still signs the page in.
    page.locator("#login-token").fill(floor.tokens["viewer"])
    page.locator("#login button").click()
    expect(page.locator("#timeline tbody")).to_contain_text("Sam Okafor")
