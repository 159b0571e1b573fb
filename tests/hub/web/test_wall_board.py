"""The board across the hall, at wall size (1920x1080 and 3840x2160) in a real browser
against a real hub: its text grows as the stations get fewer, a waiting call's flashing
keeps the text's contrast at 4.5:1 or more, a line's board names its line, "+N" says
what it counts, and a kiosk board has no "Sign out"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from hub.web.i18n import TEXTS
from testbed.broker import MosquittoBroker
from tests.helpers.floor import FEW, LOCALES, MANY, MANY_STATIONS, WALLS, FloorHub, floor_hub
from tests.helpers.web import new_page, screenshot

pytestmark = [pytest.mark.system, pytest.mark.browser]

# WCAG 2.x: contrast of normal text against its background, at least 4.5:1 (AA).
AA_CONTRAST = 4.5
# Each colour's time on screen: the flash is one second, half on, half off.
FLASH_MOMENTS_MS = [0, 250, 500, 750]
_STYLES_AT = """(node, moments) => {
  const [animation] = node.getAnimations();
  if (!animation) return [];
  animation.pause();
  return moments.map((ms) => {
    animation.currentTime = ms;
    const tile = getComputedStyle(node);
    const name = getComputedStyle(node.querySelector(".tile-name"));
    return {text: name.color, background: tile.backgroundColor, frame: tile.boxShadow,
            seen_as_is: [tile.filter, tile.opacity, name.filter, name.opacity].join(" ")};
  });
}"""


@pytest.fixture
def floor(tmp_path: Path, broker: MosquittoBroker, topic_prefix: str) -> Iterator[FloorHub]:
    with floor_hub(tmp_path, broker, topic_prefix) as started:
        yield started


def _board(floor: FloorHub, browser: Browser, path: str, size: dict[str, int], lang: str) -> Page:
    page = new_page(browser, **size, locale=LOCALES[lang])
    separator = "&" if "?" in path else "?"
    page.goto(f"{floor.base_url}{path}{separator}token={floor.tokens['viewer']}")
    page.wait_for_selector("article.tile")
    return page


def _rgb(css: str) -> tuple[float, float, float]:
    parts = css[css.index("(") + 1 : css.index(")")].split(",")
    assert len(parts) == 3, f"an opaque colour, not {css}"
    red, green, blue = (float(part) for part in parts)
    return red, green, blue


def _luminance(css: str) -> float:
    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(c) for c in _rgb(css))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(text: str, background: str) -> float:
    lighter, darker = sorted((_luminance(text), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_is_the_wcag_ratio() -> None:
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21)
    assert contrast("rgb(118, 118, 118)", "rgb(255, 255, 255)") == pytest.approx(4.54, abs=0.01)


def _font_px(page: Page, selector: str) -> float:
    size: str = page.locator(selector).first.evaluate("node => getComputedStyle(node).fontSize")
    return float(size.removesuffix("px"))


@pytest.mark.parametrize("size", WALLS, ids=lambda size: f"{size['width']}x{size['height']}")
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_text_grows_as_the_stations_get_fewer_and_fits_the_wall(
    floor: FloorHub, browser: Browser, size: dict[str, int], lang: str
) -> None:
    floor.raise_call(FEW, "st01")
    floor.raise_call(MANY, "s01")
    few = _board(floor, browser, f"/board/{FEW}?lang={lang}", size, lang)
    expect(few.locator("article.tile")).to_have_count(2)
    many = _board(floor, browser, f"/board/{MANY}?lang={lang}", size, lang)
    expect(many.locator("article.tile")).to_have_count(len(MANY_STATIONS))
    for part in (".tile-name", ".tile-type", ".tile-age"):
        raised = f'[data-state="raised"] {part}'
        large, small = _font_px(few, raised), _font_px(many, raised)
        assert large >= 2 * small, (part, large, small)
    # Twenty stations on one wall screen, no scrolling; at 1920 px a name is 30 px or more.
    assert many.evaluate("document.documentElement.scrollHeight") <= size["height"]
    assert _font_px(many, ".tile-name") >= 30 * size["width"] / 1920
    if size["width"] == 1920 and lang == "en":
        screenshot(few, "board-line")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_waiting_calls_flash_keeps_every_tiles_text_contrast(
    floor: FloorHub, browser: Browser, lang: str
) -> None:
    waiting = floor.raise_call(MANY, "s01")
    floor.raise_call(MANY, "s02")
    with floor.api("responder") as api:
        assert api.post(f"/api/calls/{floor.raise_call(MANY, 's03')}/acknowledge").is_success
        assert api.post(f"/api/calls/{floor.raise_call(MANY, 's04')}/arrive").is_success
    page = _board(floor, browser, f"/board/{MANY}?lang={lang}", WALLS[0], lang)
    page.wait_for_selector('[data-station="s04"][data-state="arrived"]')
    assert floor.call(waiting)["state"] == "raised"
    flashing = page.locator('[data-station="s01"].flashing')
    phases = flashing.evaluate(_STYLES_AT, FLASH_MOMENTS_MS)
    assert len({phase["frame"] for phase in phases}) == 2, phases  # it does flash
    for phase in phases:
        # No filter or opacity dims what the computed colours say (a flash by brightness would).
        assert phase["seen_as_is"] == "none 1 none 1", phase
        assert contrast(phase["text"], phase["background"]) >= AA_CONTRAST, phase
    for colour in ("amber", "blue", "green"):
        tile = page.locator(f'article.tile[data-colour="{colour}"]').first
        text = tile.locator(".tile-name").evaluate("node => getComputedStyle(node).color")
        background = tile.evaluate("node => getComputedStyle(node).backgroundColor")
        assert contrast(text, background) >= AA_CONTRAST, (colour, text, background)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_line_board_names_its_line_and_more_calls_say_what_they_count(
    floor: FloorHub, browser: Browser, lang: str
) -> None:
    floor.raise_call(FEW, "st01", "quality")
    floor.raise_call(FEW, "st01", "maintenance")
    page = _board(floor, browser, f"/board/{FEW}?lang={lang}", WALLS[0], lang)
    expect(page.locator("#board-line")).to_have_text({"en": "Line 1", "zh": "一号线"}[lang])
    more = page.locator('[data-station="st01"] .tile-more')
    expect(more).to_have_attribute("data-more", "1")
    expect(more).to_have_text(TEXTS["more_calls_one"][lang].replace("{n}", "1"))
    page.goto(f"{floor.base_url}/board?lang={lang}")
    page.wait_for_selector("article.tile")
    expect(page.locator("#board-line")).to_have_count(0)  # every line: each tile names its own


def test_a_kiosk_board_has_no_sign_out_and_a_desk_board_has(
    floor: FloorHub, browser: Browser
) -> None:
    kiosk = _board(floor, browser, f"/board/{FEW}?kiosk=1", WALLS[1], "en")
    expect(kiosk.locator("body")).to_have_attribute("data-kiosk", "true")
    expect(kiosk.locator("#sign-out")).to_have_count(0)
    expect(kiosk.locator("#menu")).to_have_count(0)
    assert kiosk.url == f"{floor.base_url}/board/{FEW}?kiosk=1"  # the token left, kiosk stays
    kiosk.reload()
    expect(kiosk.locator("article.tile")).to_have_count(2)
    expect(kiosk.locator("#sign-out")).to_have_count(0)
    desk = _board(floor, browser, f"/board/{FEW}", WALLS[0], "en")
    expect(desk.locator("#sign-out")).to_be_visible()
    expect(desk.locator("#sign-out")).to_have_text(TEXTS["sign_out"]["en"])
