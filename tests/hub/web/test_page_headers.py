"""What the hub's responses tell a browser: the pages' Content-Security-Policy (no inline
script, no framing), nosniff and no Referer everywhere, and page data that no name in
the hub's file can end (the browser tests, tests/hub/web/test_page_security.py, show the
same in Chromium)."""

from __future__ import annotations

import json

import pytest
import yaml

from contract.wire import utc_now
from hub.access.permissions import Role
from hub.web.render import script_json
from tests.helpers.hub import HubUnderTest
from tests.helpers.pages import PAGES, script_data

pytestmark = pytest.mark.asyncio

NASTY = "<!--<script></script>&amp;\"'\u2028\u2029]]>"
DATA_BLOCK = '<script id="andon-data" type="application/json">'
# Headers do not depend on the database: SQLite only.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (directive.split() for directive in policy.split(";") if directive.strip())
    return {words[0]: words[1:] for words in parts}


@SQLITE_ONLY
@pytest.mark.parametrize("path", [*PAGES, "/charts/%3Cscript%3E"])
async def test_every_page_runs_only_the_hubs_own_scripts_and_cannot_be_framed(
    hub: HubUnderTest, path: str
) -> None:
    async with hub.client() as browser:
        response = await browser.get(path)
    assert response.status_code == 200
    policy = _directives(response.headers["content-security-policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "<script>" not in response.text  # every script has a src or is JSON data


@SQLITE_ONLY
@pytest.mark.parametrize(
    "path", ["/api/calls", "/healthz", "/static/andon.js", "/board/line9", "/ack/nonsense"]
)
async def test_every_response_says_nosniff_and_sends_no_referer(
    hub: HubUnderTest, path: str
) -> None:
    async with hub.client(Role.VIEWER) as browser:
        response = await browser.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    html = response.headers["content-type"].startswith("text/html")
    assert ("content-security-policy" in response.headers) == html


@SQLITE_ONLY
async def test_the_api_explorer_keeps_its_own_scripts_but_cannot_be_framed(
    hub: HubUnderTest,
) -> None:
    async with hub.client() as browser:
        response = await browser.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"


@SQLITE_ONLY
async def test_a_name_that_looks_like_markup_cannot_end_the_pages_data(
    hub: HubUnderTest,
) -> None:
    settings = yaml.safe_load(hub.config_path.read_text())
    settings["areas"][0]["lines"][0]["name"] = NASTY
    settings["areas"][0]["lines"][0]["stations"][0]["name"] = NASTY + "st10"
    hub.config_path.write_text(yaml.safe_dump(settings, allow_unicode=True))
    assert hub.app.state.config.reload(actor="test", now=utc_now()).ok
    async with hub.client() as browser:
        html = (await browser.get("/board")).text
    start = html.index(DATA_BLOCK) + len(DATA_BLOCK)
    block = html[start : html.index("</script>", start)]
    for unsafe in ("<", ">", "&", "\u2028", "\u2029"):
        assert unsafe not in block
    names = script_data(html)["names"]["lines"]["line1"]
    assert names["name"] == NASTY
    assert names["stations"]["st10"] == NASTY + "st10"


async def test_page_data_reads_back_as_the_same_value() -> None:
    value = {"name": NASTY, "nested": [NASTY, 1.5, None, True], NASTY: "key"}
    assert json.loads(script_json(value)) == value
