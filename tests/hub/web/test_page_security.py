"""The pages under the hub's Content-Security-Policy, with names that look like markup,
and ``?token=`` links, in a real browser against a real hub.

The plant's names here are chosen to end a page's script if they were pasted into it
as they are: ``<!--<script`` (which makes the block's real end tag part of it),
``</script>``, ``&``, quotes and the line separators U+2028 and U+2029. Every page must
show them as text. Every test here (and in the other browser tests) also fails on any
policy violation (``no_policy_violations`` in conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Request, expect

from contract.netutil import free_port
from hub.web.i18n import TEXTS
from testbed.broker import MosquittoBroker
from tests.helpers.plant import AndonProcess, create_tokens, wait_hub_healthy, write_yaml
from tests.helpers.web import VIOLATIONS, new_page

pytestmark = [pytest.mark.system, pytest.mark.browser]

LINES = {"line1": '</script><script>document.title="owned"</script>', "line2": "</ ]]> --> <b>"}
STATIONS = {
    "st10": ("line1", "<!--<script>"),
    "st20": ("line1", 'Tom & Jerry\'s "press" &amp;'),
    "st30": ("line1", "Leak\u2028test\u2029 'end'"),
    "st40": ("line2", "<img src=x onerror=alert(1)>"),
}
CHINESE_ST10 = "压装<!--<script>"
CALL_TYPE = "<!-- Maintenance & </script>"
REASON = '<script>worn</script> "tool"'


def _settings(broker: MosquittoBroker, prefix: str, port: int, db: Path) -> dict[str, object]:
    def station(station_id: str) -> dict[str, object]:
        named: dict[str, object] = {"id": station_id, "name": STATIONS[station_id][1]}
        if station_id == "st10":
            named["names"] = {"zh": CHINESE_ST10}
        return named

    lines = [
        {"id": line, "name": name, "stations": [station(s) for s, (on, _) in STATIONS.items()
                                                if on == line]}
        for line, name in LINES.items()
    ]  # fmt: skip
    return {
        "site": "plant1",
        "broker": {"host": broker.host, "port": broker.port, "topic_prefix": prefix},
        "storage": {"path": str(db)},
        "api": {"host": "127.0.0.1", "port": port},
        "call_types": [{"id": "maintenance", "name": CALL_TYPE}],
        "reason_codes": [{"id": "tool-worn", "name": REASON}],
        "areas": [{"id": "assembly", "lines": lines}],
    }


@dataclass
class OddNamesHub:
    base_url: str
    tokens: dict[str, str]

    def raise_call(self, line: str, station: str) -> int:
        headers = {"Authorization": f"Bearer {self.tokens['station']}"}
        body = {"area": "assembly", "line": line, "station": station, "call_type": "maintenance"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=5) as api:
            raised = api.post("/api/calls", json=body)
        assert raised.status_code == 201, raised.text
        call_id: int = raised.json()["id"]
        return call_id


@pytest.fixture
def odd_hub(tmp_path: Path, broker: MosquittoBroker, topic_prefix: str) -> Iterator[OddNamesHub]:
    port = free_port()
    settings = _settings(broker, topic_prefix, port, tmp_path / "hub.sqlite3")
    config = write_yaml(tmp_path / "hub.yaml", settings)
    wanted: dict[str, tuple[str, list[str]]] = {
        f"{role}-token": (role, []) for role in ("viewer", "station")
    }
    made = create_tokens(config, wanted | {"viewer-line2": ("viewer", ["line2"])})
    tokens = {role: made[f"{role}-token"] for role in ("viewer", "station")}
    tokens["viewer-line2"] = made["viewer-line2"]
    hub = AndonProcess("hub", config, tmp_path / "hub.log")
    try:
        hub.start()
        base_url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base_url, timeout=2) as client:
            wait_hub_healthy(client)
        yield OddNamesHub(base_url, tokens)
    finally:
        hub.stop()


def _text(page: Page, selector: str) -> str:
    """The exact text of ``selector`` (Playwright's text matchers fold U+2028 to a space)."""
    page.wait_for_selector(selector)
    return page.locator(selector).text_content() or ""


def _stored_token(page: Page) -> str | None:
    stored: str | None = page.evaluate("localStorage.getItem('andon_token')")
    return stored


def test_names_that_look_like_markup_are_shown_as_text_on_every_page(
    odd_hub: OddNamesHub, browser: Browser
) -> None:
    call_id = odd_hub.raise_call("line1", "st10")
    board = new_page(browser, width=1600, height=900)
    board.goto(f"{odd_hub.base_url}/board?token={odd_hub.tokens['viewer']}")
    expect(board.locator("article.tile")).to_have_count(len(STATIONS))
    for station, (line, name) in STATIONS.items():
        assert _text(board, f'[data-station="{station}"] .tile-name') == name
        assert _text(board, f'[data-station="{station}"] .tile-line') == LINES[line]
    assert _text(board, '[data-station="st10"] .tile-type') == CALL_TYPE
    assert board.title() == f"{TEXTS['board']['en']} · plant1"  # no name's script ran
    board.goto(f"{odd_hub.base_url}/board?lang=zh")
    assert _text(board, '[data-station="st10"][data-state="raised"] .tile-name') == CHINESE_ST10
    expect(board.locator("article.tile")).to_have_count(len(STATIONS))

    board.goto(f"{odd_hub.base_url}/inbox?lang=en")
    card = f'.card[data-call="{call_id}"]'
    assert _text(board, f"{card} .where") == f"{STATIONS['st10'][1]} · {LINES['line1']}"
    assert _text(board, f"{card} .type") == CALL_TYPE
    expect(board.locator(f"{card} select option")).to_have_text(
        [TEXTS["choose_reason"]["en"], REASON]
    )

    board.goto(f"{odd_hub.base_url}/calls/{call_id}")
    board.wait_for_selector("#call dd")
    facts = board.locator("#call dd").all_text_contents()
    assert f"{STATIONS['st10'][1]} · {LINES['line1']}" in facts
    assert CALL_TYPE in facts

    board.goto(f"{odd_hub.base_url}/reports")
    board.wait_for_selector("body[data-loaded=true]")
    options = board.locator("#period select[name=line] option").all_text_contents()
    assert options[1:] == list(LINES.values())


def test_every_page_runs_under_the_policy_and_an_inline_script_is_refused(
    odd_hub: OddNamesHub, browser: Browser
) -> None:
    call_id = odd_hub.raise_call("line1", "st20")
    page = new_page(browser, width=1280, height=900)
    answer = page.goto(f"{odd_hub.base_url}/board?token={odd_hub.tokens['viewer']}")
    assert answer is not None
    policy = answer.headers["content-security-policy"]
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    page.wait_for_selector("article.tile")
    page.goto(f"{odd_hub.base_url}/inbox")
    page.wait_for_selector(f'.card[data-call="{call_id}"]')
    page.goto(f"{odd_hub.base_url}/calls/{call_id}")
    page.wait_for_selector('#timeline tr[data-action="raised"]')
    page.goto(f"{odd_hub.base_url}/reports")
    page.wait_for_selector("body[data-loaded=true]")
    for chart_page in ("/charts", "/charts/bore"):
        page.goto(f"{odd_hub.base_url}{chart_page}")
        expect(page.locator(".empty")).to_be_visible()
    assert VIOLATIONS == []

    # The watch itself: a script written into the page is refused, and that is seen.
    refused = lambda message: message.text.startswith("CSP violation: script-src")  # noqa: E731
    with page.expect_console_message(refused):
        page.evaluate("""() => {
            const script = document.createElement("script");
            script.textContent = "document.body.dataset.injected = 'ran';";
            document.head.append(script);
        }""")
    expect(page.locator("body")).not_to_have_attribute("data-injected", "ran")
    assert any("script-src" in violation for violation in VIOLATIONS), VIOLATIONS
    VIOLATIONS.clear()


def test_a_token_link_signs_in_a_browser_without_a_token_and_leaves_no_trace(
    odd_hub: OddNamesHub, browser: Browser
) -> None:
    viewer = odd_hub.tokens["viewer"]
    page = new_page(browser, width=1280, height=900)
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))  # noqa: PLW0108  # Playwright needs a function, not a bound method
    page.goto(f"{odd_hub.base_url}/board?lang=en&token={viewer}")
    expect(page.locator("article.tile")).to_have_count(len(STATIONS))
    assert page.url == f"{odd_hub.base_url}/board?lang=en"
    assert _stored_token(page) == viewer
    expect(page.locator("#token-switch")).to_be_hidden()
    assert requests
    referers = [request.all_headers().get("referer", "") for request in requests]
    assert [referer for referer in referers if viewer in referer] == []
    page.goto(f"{odd_hub.base_url}/inbox?token={viewer}")  # the same token: nothing to ask
    page.wait_for_selector("body[data-connected=true]")
    expect(page.locator("#token-switch")).to_be_hidden()
    assert page.url == f"{odd_hub.base_url}/inbox"


def test_a_token_link_asks_before_it_replaces_the_browsers_token(
    odd_hub: OddNamesHub, browser: Browser
) -> None:
    viewer, line2 = odd_hub.tokens["viewer"], odd_hub.tokens["viewer-line2"]
    page = new_page(browser, width=1280, height=900)
    page.goto(f"{odd_hub.base_url}/board?token={viewer}")
    expect(page.locator("article.tile")).to_have_count(len(STATIONS))

    page.goto(f"{odd_hub.base_url}/board?token={line2}")
    expect(page.locator("#token-switch")).to_be_visible()
    expect(page.locator("#token-switch")).to_contain_text(TEXTS["token_switch"]["en"])
    assert page.url == f"{odd_hub.base_url}/board"
    assert _stored_token(page) == viewer
    expect(page.locator("article.tile")).to_have_count(len(STATIONS))  # still the viewer's
    page.locator("#token-switch-no").click()
    expect(page.locator("#token-switch")).to_be_hidden()
    assert _stored_token(page) == viewer

    page.goto(f"{odd_hub.base_url}/board?lang=zh&token={line2}")
    expect(page.locator("#token-switch")).to_contain_text(TEXTS["token_switch"]["zh"])
    expect(page.locator("#token-switch-yes")).to_have_text(TEXTS["token_switch_yes"]["zh"])
    assert page.url == f"{odd_hub.base_url}/board?lang=zh"
    page.locator("#token-switch-yes").click()
    expect(page.locator("article.tile")).to_have_count(1)  # line2's token: line2's station
    expect(page.locator('[data-station="st40"]')).to_be_visible()
    expect(page.locator("#token-switch")).to_be_hidden()
    assert _stored_token(page) == line2
