"""A responder's phone and the board across the hall, in a real Chromium against a hub
served over HTTP: a photo taken on the call page and in the inbox (the camera's file
input) is uploaded and shown as a thumbnail; the board with ?sound=on plays its chime
while a call waits and stops on acknowledgement; the inbox installs (manifest, service
worker) and opens from its cached shell while the hub's pages are out of reach.

One hub and one browser for the module. Chromium runs with
``--autoplay-policy=no-user-gesture-required``, as a wall board's kiosk browser does."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright

from hub.access.permissions import Role
from tests.helpers.live_hub import LiveHub, live_hub
from tests.helpers.waiting import wait_until
from tests.helpers.web import CHROMIUM, new_page

pytestmark = [pytest.mark.browser]

SHELL = "andon-inbox-shell-v1"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    folder = tmp_path_factory.mktemp("phone")
    with live_hub(folder, f"sqlite:///{folder / 'hub.sqlite3'}") as started:
        yield started


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run scripts/bootstrap.sh")
    with sync_playwright() as playwright:
        # A wall board's kiosk browser lets the page play sound without a tap first.
        args = ["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        yield launched
        launched.close()


def _api(hub: LiveHub, role: Role) -> httpx.Client:
    headers = {"Authorization": f"Bearer {hub.token(role)}"}
    return httpx.Client(base_url=hub.url, headers=headers, timeout=10)


def _raise(hub: LiveHub, station: str, line: str = "line1") -> int:
    body = {"area": "assembly", "line": line, "station": station, "call_type": "quality"}
    with _api(hub, Role.STATION) as api:
        made = api.post("/api/calls", json=body)
    assert made.status_code == 201, made.text
    call_id: int = made.json()["id"]
    return call_id


def _photos(hub: LiveHub, call_id: int) -> list[dict[str, Any]]:
    with _api(hub, Role.VIEWER) as api:
        photos: list[dict[str, Any]] = api.get(f"/api/calls/{call_id}/photos").json()["photos"]
    return photos


def _picture(path: Path, kind: str, colour: tuple[int, int, int]) -> Path:
    image = Image.new("RGB", (640, 480), colour)
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (31.0, 14.0, 5.0)})  # a GPS position
    image.save(path, format=kind, exif=exif.tobytes())
    return path


def _signed_in(hub: LiveHub, page: Page, path: str, role: Role) -> None:
    separator = "&" if "?" in path else "?"
    page.goto(f"{hub.url}{path}{separator}token={hub.token(role)}")


def test_a_photo_taken_on_the_call_page_and_in_the_inbox_shows_as_a_thumbnail(
    hub: LiveHub, chromium: Browser, tmp_path: Path
) -> None:
    call_id = _raise(hub, "st10")
    page = new_page(chromium, width=390, height=844)
    _signed_in(hub, page, f"/calls/{call_id}", Role.RESPONDER)
    camera = page.locator("#photos input.photo-input")
    expect(camera).to_have_attribute("accept", "image/*")
    expect(camera).to_have_attribute("capture", "environment")
    camera.set_input_files(_picture(tmp_path / "defect.jpg", "JPEG", (200, 40, 40)))
    thumb = page.locator("#photos img.photo-thumb")
    expect(thumb).to_have_count(1)
    # Polled from here: wait_for_function's polling evaluates a string, which the CSP forbids.
    wait_until(
        lambda: page.evaluate("() => document.querySelector('#photos img.photo-thumb')"
                              "?.naturalWidth === 320"),
        what="the thumbnail shown",
    )  # fmt: skip
    (photo,) = _photos(hub, call_id)
    assert photo["by"] == "responder-all"
    assert photo["content_type"] == "image/jpeg"
    expect(thumb).to_have_attribute("data-photo", str(photo["id"]))

    _signed_in(hub, page, f"/inbox?call={call_id}", Role.RESPONDER)
    card = page.locator(f'.card[data-call="{call_id}"]')
    expect(card.locator("img.photo-thumb")).to_have_count(1)
    card.locator("input.photo-input").set_input_files(
        _picture(tmp_path / "label.png", "PNG", (40, 40, 200))
    )
    expect(card.locator("img.photo-thumb")).to_have_count(2)
    assert [p["content_type"] for p in _photos(hub, call_id)] == ["image/jpeg", "image/png"]

    # A file that is not a picture: the hub's sentence on the card, nothing stored.
    (tmp_path / "notes.txt").write_text("not a picture")
    card.locator("input.photo-input").set_input_files(tmp_path / "notes.txt")
    expect(card.locator(".photo-status")).to_contain_text("not a JPEG, PNG or WebP image")
    assert len(_photos(hub, call_id)) == 2
    page.context.close()


def _paused(page: Page) -> bool:
    paused: bool = page.evaluate("document.getElementById('call-sound').paused")
    return paused


def test_the_board_chimes_while_a_call_waits_and_stops_on_acknowledgement(
    hub: LiveHub, chromium: Browser
) -> None:
    page = new_page(chromium, width=1280, height=720)
    _signed_in(hub, page, "/board/line2?sound=on", Role.VIEWER)
    quiet = new_page(chromium, width=1280, height=720)
    _signed_in(hub, quiet, "/board/line2", Role.VIEWER)
    for board in (page, quiet):
        board.wait_for_selector('[data-station="st30"][data-state="idle"]')
    expect(page.locator("body")).to_have_attribute("data-sound", "on")
    expect(quiet.locator("body")).to_have_attribute("data-sound", "off")
    assert _paused(page)

    call_id = _raise(hub, "st30", "line2")
    tile = page.locator('[data-station="st30"][data-state="raised"]')
    expect(tile).to_have_class("tile amber flashing")
    expect(page.locator("body")).to_have_attribute("data-sounding", "true")
    wait_until(lambda: not _paused(page), what="the chime playing")
    played = page.evaluate("document.getElementById('call-sound').currentSrc")
    assert played == f"{hub.url}/sounds/call.wav"
    quiet.wait_for_selector('[data-station="st30"][data-state="raised"]')
    assert _paused(quiet)  # a board without ?sound=on stays silent

    with _api(hub, Role.RESPONDER) as api:
        assert api.post(f"/api/calls/{call_id}/acknowledge").status_code == 200
    expect(page.locator('[data-station="st30"][data-state="acknowledged"]')).not_to_have_class(
        "tile blue flashing"
    )
    expect(page.locator("body")).to_have_attribute("data-sounding", "false")
    assert _paused(page)

    # The screen keeps the choice: the same board opened again without ?sound chimes.
    page.goto(f"{hub.url}/board/line2")
    expect(page.locator("body")).to_have_attribute("data-sound", "on")
    with _api(hub, Role.ADMIN) as api:
        api.post(f"/api/calls/{call_id}/cancel", json={"reason": "test over"})
    page.context.close()
    quiet.context.close()


def test_the_sound_is_a_short_wav_of_the_hubs_own(hub: LiveHub) -> None:
    response = httpx.get(f"{hub.url}/sounds/call.wav")
    assert response.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(response.content)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    assert 0.5 < seconds < 2


def test_the_inbox_installs_and_opens_from_its_shell_when_the_hub_is_out_of_reach(
    hub: LiveHub, chromium: Browser
) -> None:
    page = new_page(chromium, width=390, height=844)
    _signed_in(hub, page, "/inbox", Role.RESPONDER)
    href = page.locator("link[rel=manifest]").get_attribute("href")
    assert href == "/manifest.webmanifest"
    manifest = page.evaluate(
        "fetch('/manifest.webmanifest')"
        ".then(async (r) => [r.headers.get('content-type'), await r.json()])"
    )
    assert manifest[0] == "application/manifest+json"
    assert manifest[1]["start_url"] == "/inbox"
    assert manifest[1]["display"] == "standalone"
    assert manifest[1]["icons"][0]["src"] == "/static/icon.svg"
    wait_until(
        lambda: page.evaluate("() => navigator.serviceWorker.controller !== null"),
        what="the service worker in control",
    )
    cached = page.evaluate(
        f"caches.open('{SHELL}').then((c) => c.keys()).then((keys) => "
        "keys.map((r) => new URL(r.url).pathname).sort())"
    )
    assert cached == sorted(
        [
            "/inbox",
            "/manifest.webmanifest",
            "/static/andon.css",
            "/static/andon.js",
            "/static/icon.svg",
            "/static/inbox.js",
            "/static/photos.js",
        ]
    )
    # Out of reach: the shell comes from the cache, and the page says the data is not live.
    page.context.set_offline(True)
    page.reload()
    expect(page.locator("h1")).to_have_text("Inbox")
    expect(page.locator("#calls")).to_be_attached()
    assert page.evaluate("typeof Andon") == "object"  # its scripts came from the cache too
    page.context.set_offline(False)
    page.context.close()
