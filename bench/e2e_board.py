"""The andon board in headless Chromium, watched for tile changes.

Playwright drives Debian's ``chromium`` (never its own browser download). The page is
one line's board (``/board/{line}``) as the big screen over that line shows it; a
MutationObserver in the page notes each tile whose ``data-state`` changed, with
``performance.timeOrigin + performance.now()`` (the wall clock in milliseconds, as
``time.time()`` has it: one machine), at the moment the page changed it. A thread of
its own drives the browser (Playwright's sync API belongs to the thread that started
it) and collects the notes every 50 ms; the collecting adds nothing to the times, which
the page took.

If Playwright or Chromium cannot start, ``reason`` says why and the benchmark reports
``press_to_board_ms`` as null.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from bench.e2e_watch import Sightings

CHROMIUM = Path("/usr/bin/chromium")
COLLECT_S = 0.05
READY_TIMEOUT_MS = 60_000

# Run in the page once its tiles are drawn: the board replaces its tiles on every picture
# the hub streams, so each batch of mutations is answered by a scan of all of them.
OBSERVER = """() => {
  const seen = new Map();
  const notes = [];
  const scan = () => {
    const at = performance.timeOrigin + performance.now();
    for (const tile of document.querySelectorAll("#tiles [data-station]")) {
      const key = tile.dataset.line + "/" + tile.dataset.station;
      if (seen.get(key) !== tile.dataset.state) {
        seen.set(key, tile.dataset.state);
        notes.push([tile.dataset.line, tile.dataset.station, tile.dataset.state, at]);
      }
    }
  };
  new MutationObserver(scan).observe(document.getElementById("tiles"), {
    childList: true, subtree: true, attributes: true, attributeFilter: ["data-state"],
  });
  scan();
  window.e2eNotes = () => notes.splice(0);
}"""


class BoardWatch:
    """``start()``, then ``ready`` is set once the board shows ``tiles`` tiles (or failed)."""

    def __init__(self, *, url: str, line: str, tiles: int, sightings: Sightings) -> None:
        self.url = url
        self.line = line
        self.tiles = tiles
        self.sightings = sightings
        self.ready = threading.Event()
        self.reason: str | None = None  # why the board could not be watched
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="e2e-board", daemon=True)

    def shows(self, line: str) -> bool:
        """Whether the board is watched and shows ``line``'s tiles."""
        return line == self.line and self.ready.is_set() and self.reason is None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:  # started
            self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            self._watch()
        except Exception as error:  # whatever Playwright raises: reported, not fatal
            self.reason = f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"
        finally:
            self.ready.set()

    def _watch(self) -> None:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            self.reason = "playwright is not installed (pip install playwright)"
            return
        if not CHROMIUM.exists():
            self.reason = f"{CHROMIUM} is missing: run scripts/bootstrap.sh"
            return
        with sync_playwright() as playwright:
            # --no-sandbox: the benchmark may run as root, where Chromium's sandbox cannot.
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox"]
            )
            try:
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.goto(self.url)
                page.wait_for_function(
                    f"document.querySelectorAll('#tiles [data-station]').length >= {self.tiles}",
                    timeout=READY_TIMEOUT_MS,
                )
                page.evaluate(OBSERVER)
                self._collect(page)
            finally:
                browser.close()

    def _collect(self, page: Any) -> None:
        self._note(page.evaluate("window.e2eNotes()"))
        self.ready.set()
        while not self._stop.wait(COLLECT_S):
            self._note(page.evaluate("window.e2eNotes()"))

    def _note(self, notes: list[list[Any]]) -> None:
        def record(sightings: Sightings) -> None:
            for line, station, state, at_ms in notes:
                sightings.board[(line, station)].append((at_ms / 1000, state))

        if notes:
            self.sightings.note(record)
