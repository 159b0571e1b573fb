"""/rosters in a real browser against ``andon hub`` as a process: a team leader adds an
override across midnight with the form (the site's time zone), sees a refusal's reason,
removes it; a viewer reads the list without the form; the Chinese page has no English
word of ours."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from contract.netutil import free_port
from contract.wire import utc_now
from tests.helpers.chinese import PAGE_TEXT, english_words
from tests.helpers.plant import AndonProcess, create_tokens, write_yaml
from tests.helpers.waiting import wait_until
from tests.helpers.web import CALL_TYPES, REASON_CODES, new_page

pytestmark = [pytest.mark.system, pytest.mark.browser]

ZONE = "Europe/Berlin"


@dataclass(frozen=True)
class RosterHub:
    base_url: str
    tokens: dict[str, str]

    def api(self, role: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def roster_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RosterHub]:
    """A hub with two people and no broker (it keeps retrying one; the pages need none)."""
    folder = tmp_path_factory.mktemp("rosters")
    port = free_port()
    settings = {
        "site": "plant1",
        "broker": {"host": "127.0.0.1", "port": free_port()},
        "storage": {"path": str(folder / "hub.sqlite3")},
        "api": {"host": "127.0.0.1", "port": port},
        "timezone": ZONE,
        "call_types": CALL_TYPES,
        "reason_codes": REASON_CODES,
        "areas": [{"id": "assembly", "lines": [{"id": "line1", "stations": [{"id": "st10"}]}]}],
        "people": [
            {"id": "chen", "name": "Chen Jie", "notify": ["json://127.0.0.1:9/chen"]},
            {"id": "wang", "name": "Wang Lei", "notify": ["json://127.0.0.1:9/wang"]},
        ],
    }
    config = write_yaml(folder / "hub.yaml", settings)
    made = create_tokens(
        config, {"viewer-token": ("viewer", []), "engineer-token": ("engineer", [])}
    )
    tokens = {role: made[f"{role}-token"] for role in ("viewer", "engineer")}
    hub = AndonProcess("hub", config, folder / "hub.log")
    started = RosterHub(f"http://127.0.0.1:{port}", tokens)
    try:
        hub.start()
        with started.api("viewer") as api:
            wait_until(lambda: api.get("/api/token").status_code == 200, timeout=60, what="hub")
        yield started
    finally:
        hub.stop()


def tomorrow() -> str:
    """The site's date the day after tomorrow: an override still to come when it is read."""
    return (utc_now() + timedelta(days=2)).astimezone(ZoneInfo(ZONE)).date().isoformat()


def open_rosters(browser: Browser, hub: RosterHub, role: str, lang: str = "en") -> Page:
    page = new_page(browser, width=1200, height=900)
    page.goto(f"{hub.base_url}/rosters?lang={lang}&token={hub.tokens[role]}")
    page.wait_for_selector("body[data-loaded=true]")
    return page


def test_a_team_leader_adds_an_override_across_midnight_and_removes_it(
    roster_hub: RosterHub, browser: Browser
) -> None:
    page = open_rosters(browser, roster_hub, "engineer")
    expect(page.locator("#no-overrides")).to_be_visible()
    expect(page.locator("main")).to_contain_text(ZONE)
    day = tomorrow()
    form = page.locator("#override-form")
    form.locator("select[name=person]").select_option("chen")
    form.locator("select[name=covers]").select_option("chen")
    form.locator("input[name=starts]").fill(f"{day}T22:00")
    form.locator("input[name=ends]").fill("06:00")
    form.locator("button[type=submit]").click()
    expect(page.locator("#override-error")).to_contain_text("a person cannot cover themselves")
    expect(page.locator("#overrides tbody tr")).to_have_count(0)

    form.locator("select[name=covers]").select_option("wang")
    form.locator("button[type=submit]").click()
    row = page.locator("#overrides tbody tr")
    expect(row).to_have_count(1)
    with roster_hub.api("viewer") as api:
        (stored,) = api.get("/api/roster-overrides").json()["overrides"]
    next_day = (utc_now() + timedelta(days=3)).astimezone(ZoneInfo(ZONE)).date().isoformat()
    assert (stored["person"], stored["covers"]) == ("chen", "wang")
    assert (stored["starts_local"], stored["ends_local"]) == (f"{day} 22:00", f"{next_day} 06:00")
    expect(row).to_have_attribute("data-override-id", str(stored["id"]))
    expect(row).to_contain_text("Chen Jie")
    expect(row).to_contain_text("Wang Lei")
    expect(row).to_contain_text(f"{next_day} 06:00")
    expect(page.locator("#override-error")).to_be_hidden()

    row.locator("button.remove").click()
    expect(page.locator("#overrides tbody tr")).to_have_count(0)
    expect(page.locator("#no-overrides")).to_be_visible()
    with roster_hub.api("viewer") as api:
        assert api.get("/api/roster-overrides").json()["overrides"] == []


def test_a_viewer_reads_the_list_in_chinese_without_the_form(
    roster_hub: RosterHub, browser: Browser
) -> None:
    body = {"person": "wang", "covers": "chen", "starts": f"{tomorrow()} 08:00", "ends": "16:00",
            "note": "换班"}  # fmt: skip
    with roster_hub.api("engineer") as api:
        made = api.post("/api/roster-overrides", json=body)
    assert made.status_code == 201, made.text
    page = open_rosters(browser, roster_hub, "viewer", lang="zh")
    row = page.locator(f"#overrides tbody tr[data-override-id='{made.json()['id']}']")
    expect(row).to_contain_text("Wang Lei")
    expect(row.locator("button")).to_have_count(0)
    expect(page.locator("#override-add")).to_be_hidden()
    text = page.evaluate(PAGE_TEXT)
    for name in ("Chen Jie", "Wang Lei", ZONE):
        text = text.replace(name, " ")
    assert english_words(text) == []
    with roster_hub.api("engineer") as api:
        assert api.delete(f"/api/roster-overrides/{made.json()['id']}").status_code == 204
