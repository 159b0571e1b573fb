"""The pages as the hub serves them: open without a token, in the browser's language,
with the plant's names from the file; their files ship with the package."""

from __future__ import annotations

import json
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract.config.loading import ConfigInvalid
from contract.wire import utc_now
from hub.config.file import load_hub_config
from hub.web.i18n import TEXTS, from_accept_language
from tests.hub.conftest import HubUnderTest

pytestmark = pytest.mark.asyncio

ROOT = Path(__file__).parents[2]
PAGES = [
    "/board", "/board/line1", "/inbox", "/inbox?call=7", "/calls/7", "/reports", "/charts",
    "/charts/bore", "/rosters",
]  # fmt: skip


def _script_data(html: str) -> dict[str, Any]:
    start = html.index('type="application/json">') + len('type="application/json">')
    data: dict[str, Any] = json.loads(html[start : html.index("</script>", start)])
    return data


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_loads_without_a_token_and_holds_no_calls(
    hub: HubUnderTest, path: str
) -> None:
    hub.raise_call("st10")
    async with hub.client() as anonymous:
        response = await anonymous.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/static/andon.js" in response.text
    assert "first_event_id" not in response.text  # calls come from the API, with a token


async def test_a_characteristic_name_in_the_address_is_shown_as_text(hub: HubUnderTest) -> None:
    async with hub.client() as anonymous:
        response = await anonymous.get('/charts/"><img src=x onerror=alert(1)>')
    assert response.status_code == 200
    # Inside the JSON data block it is inert (and "</" is escaped there); elsewhere, text.
    data_end = response.text.index("</script>")
    assert "<img src=x" not in response.text[data_end:]
    assert "&lt;img src=x onerror=alert(1)&gt;" in response.text
    assert _script_data(response.text)["characteristic"] == '"><img src=x onerror=alert(1)>'


async def test_the_language_follows_the_browser_and_the_switch_sticks(hub: HubUnderTest) -> None:
    async with hub.client() as browser:
        chinese = await browser.get("/board", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        assert _script_data(chinese.text)["lang"] == "zh"
        assert "安灯看板" in chinese.text
        switched = await browser.get("/board?lang=en", headers={"Accept-Language": "zh-CN"})
        assert _script_data(switched.text)["lang"] == "en"
        assert switched.cookies.get("andon_lang") == "en"
        again = await browser.get("/inbox", headers={"Accept-Language": "zh-CN"})
        assert _script_data(again.text)["lang"] == "en"  # the cookie the switch set


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-US,en;q=0.9,zh;q=0.8", "en"),
        ("de-DE,zh-TW;q=0.5", "zh"),
        ("fr", "en"),
        ("zh;q=0, en;q=0.1", "en"),
        ("", "en"),
        ("zh;q=abc", "en"),
    ],
)
async def test_accept_language_picks_the_best_supported_language(
    header: str, language: str
) -> None:
    assert from_accept_language(header) == language


async def test_pages_carry_the_names_of_the_file_in_the_page_language(hub: HubUnderTest) -> None:
    settings = yaml.safe_load(hub.config_path.read_text())
    settings["areas"][0]["lines"][0]["names"] = {"zh": "一号线"}
    settings["areas"][0]["lines"][0]["name"] = "Line one"
    tool_worn = {"id": "tool-worn", "name": "Tool worn", "names": {"zh": "刀具磨损"}}
    settings["reason_codes"] = [tool_worn]
    hub.config_path.write_text(yaml.safe_dump(settings, allow_unicode=True))
    assert hub.app.state.config.reload(actor="test", now=utc_now()).ok
    async with hub.client() as browser:
        zh = _script_data((await browser.get("/inbox?lang=zh")).text)["names"]
        en = _script_data((await browser.get("/inbox?lang=en")).text)["names"]
    assert (zh["lines"]["line1"]["name"], en["lines"]["line1"]["name"]) == ("一号线", "Line one")
    assert zh["lines"]["line2"]["name"] == "line2"  # no name: the id
    assert (zh["reason_codes"], en["reason_codes"]) == (
        {"tool-worn": "刀具磨损"}, {"tool-worn": "Tool worn"},
    )  # fmt: skip


async def test_a_board_of_an_unknown_line_is_a_404(hub: HubUnderTest) -> None:
    async with hub.client() as browser:
        response = await browser.get("/board/line9")
    assert response.status_code == 404
    assert "no line 'line9'" in response.text


async def test_a_kiosk_board_has_no_menu_and_other_boards_have_one(hub: HubUnderTest) -> None:
    async with hub.client() as browser:
        kiosk = (await browser.get("/board/line1?kiosk=1")).text
        desk = (await browser.get("/board/line1")).text
    assert 'data-kiosk="true"' in kiosk
    assert 'id="sign-out"' not in kiosk
    assert 'id="menu"' not in kiosk
    assert 'id="sign-out"' in desk
    assert "data-kiosk" not in desk


async def test_a_name_in_an_unknown_language_is_a_config_error(tmp_path: Path) -> None:
    settings = {
        "site": "s",
        "call_types": [{"id": "help", "names": {"fr": "aide"}}],
        "reason_codes": ["fixed"],
        "areas": [{"id": "a", "lines": [{"id": "l", "stations": [{"id": "s1"}]}]}],
    }
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump(settings))
    expected = r"call_types\[0\]\.names\.fr: input should be .en. or .zh."
    with pytest.raises(ConfigInvalid, match=expected):
        load_hub_config(path)


async def test_every_word_of_the_pages_is_in_both_languages() -> None:
    assert all(set(words) == {"en", "zh"} and all(words.values()) for words in TEXTS.values())


async def test_the_templates_and_static_files_ship_with_the_package() -> None:
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = settings["tool"]["setuptools"]["package-data"]["hub.web"]
    web = ROOT / "hub" / "web"
    files = [
        path.relative_to(web).as_posix()
        for folder in ("templates", "static")
        for path in (web / folder).iterdir()
    ]
    assert files
    assert [f for f in files if not any(fnmatch(f, pattern) for pattern in patterns)] == []


async def test_static_files_are_served_by_the_hub(hub: HubUnderTest) -> None:
    async with hub.client() as browser:
        for name in ("andon.js", "board.js", "inbox.js", "call.js", "reports.js", "andon.css"):
            response = await browser.get(f"/static/{name}")
            assert response.status_code == 200, name
        assert (await browser.get("/static/nothing.js")).status_code == 404
