"""A small plant for the pages' tests: a real Mosquitto, a simulated PLC, ``andon hub`` and
``andon edge`` as processes, tokens per role, maintenance calls escalated to a local HTTP
receiver standing in for the responders' phones, and headless Chromium from Debian's
package driven by Playwright (its own browser download needs an internet connection).

Parts counters sit in the PLC's holding registers (``COUNTERS``): st10 counts parts made,
bad and reworked, st20 made and bad; the edge publishes them twice a second.

Screenshots go to a temporary directory, or into docs/screenshots with
``ANDON_UPDATE_SCREENSHOTS=1`` (so a test run leaves the tracked pictures alone)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.sync_api import Browser, ConsoleMessage, Page

from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from tests.helpers.plant import AndonProcess, wait_hub_healthy
from tests.helpers.receiver import Receiver
from tests.helpers.waiting import wait_until

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"
COILS = {"st10": 0, "st20": 1}
# The call types and reason codes of the pages' test plants, named in both languages.
CALL_TYPES = [
    {"id": "maintenance", "name": "Maintenance", "names": {"zh": "设备维修"}},
    {"id": "quality", "name": "Quality", "names": {"zh": "质量"}},
]
REASON_CODES = [
    {"id": "tool-worn", "name": "Tool worn", "names": {"zh": "刀具磨损"}},
    {"id": "fixture-loose", "name": "Fixture loose", "names": {"zh": "夹具松动"}},
]
# Holding registers of the stations' parts counters (measurements ``<station>_<counter>``).
COUNTERS = {("st10", "made"): 110, ("st10", "bad"): 111, ("st10", "rework"): 112,
            ("st20", "made"): 113, ("st20", "bad"): 114}  # fmt: skip
# Where this run's screenshots go (set once per session by ``screenshot_directory``).
SCREENSHOTS_TO: list[Path] = []


@dataclass
class WebPlant:
    plc: SimulatedPlc
    hub: AndonProcess
    edge: AndonProcess
    base_url: str
    tokens: dict[str, str]
    receiver: Receiver
    _released: dict[str, float] = field(default_factory=dict)  # station -> monotonic time

    def press(self, station: str) -> None:
        """A worker presses the station's button on the PLC and holds it until the station
        has an open call (at least 0.3 s), as one does who watches the light.

        A 0.3 s press is seen by an agent polling every 50 ms unless the agent stalls for
        longer. Once, on a loaded CI machine, a press was never seen; an agent's log now
        says when its polling was late. Seeing presses is the edge tests' subject, not
        the pages'."""
        # A button pressed again at once after its release would be one long press to an
        # agent that polled neither between: it stays released 0.3 s first.
        time.sleep(max(0.0, self._released.get(station, 0.0) + 0.3 - time.monotonic()))
        self.plc.set_coil(COILS[station], True)
        try:
            time.sleep(0.3)
            with self.api("viewer") as api:
                wait_until(lambda: self._open_calls(api, station), what=f"a call at {station}")
        finally:
            self.plc.set_coil(COILS[station], False)
            self._released[station] = time.monotonic()

    @staticmethod
    def _open_calls(api: httpx.Client, station: str) -> list[object]:
        params = {"station": station, "state": ["raised", "acknowledged", "arrived"]}
        calls: list[object] = api.get("/api/calls", params=params).json()["calls"]
        return calls

    def count(self, station: str, **values: int) -> None:
        """The station's PLC counters now read ``values`` (made, bad, rework)."""
        for name, value in values.items():
            self.plc.set_register(COUNTERS[(station, name)], value)

    def wait_for_counter_bases(self) -> None:
        """Until the hub has taken every counter's first reading (0 when the edge starts)
        as its base: parts counted after that are counted."""
        with self.api("viewer") as api:
            wait_until(lambda: readings_counted(api, "first") >= len(COUNTERS), what="bases")

    def api(self, role: str = "admin") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=5)

    def wait_healthy(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=2) as client:
            wait_hub_healthy(client, what="hub healthy")


def readings_counted(api: httpx.Client, how: str) -> float:
    """How many counter readings the hub has counted as ``how`` (its metric)."""
    for line in api.get("/metrics").text.splitlines():
        if line.startswith(f'andon_hub_quality_counter_readings_total{{how="{how}"}}'):
            return float(line.split()[-1])
    return 0.0


def web_escalation(receiver: Receiver, base_url: str) -> dict[str, object]:
    """Maintenance calls go at once to two people's phones (webhooks on the receiver)."""
    return {
        "people": [
            {
                "id": "li-wei",
                "name": "Li Wei",
                "notify": [f"andon+http://s3cret@{receiver.url}/li-wei"],
            },
            {
                "id": "zhang-min",
                "name": "Zhang Min",
                "notify": [f"json://{receiver.url}/zhang-min"],
            },
        ],
        "escalation": {
            "policies": [
                {
                    "id": "maintenance-calls",
                    "match": {"call_types": ["maintenance"]},
                    "ack_timeout_s": 3600,
                    "levels": [{"after_s": 0, "notify": ["person:li-wei", "person:zhang-min"]}],
                }
            ],
            "retry": {"initial_s": 0.2, "cap_s": 1.0, "attempts": 3},
            "send_timeout_s": 5,
            "public_url": base_url,
        },
    }


def web_hub_settings(
    broker: MosquittoBroker, prefix: str, port: int, db: Path
) -> dict[str, object]:
    return {
        "site": "plant1",
        "broker": {"host": broker.host, "port": broker.port, "topic_prefix": prefix},
        "storage": {"path": str(db)},
        "api": {"host": "127.0.0.1", "port": port},
        "timezone": "Asia/Shanghai",
        "shifts": [
            {"id": "early", "start": "06:00", "end": "14:00", "names": {"zh": "早班"}},
            {"id": "late", "start": "14:00", "end": "22:00", "names": {"zh": "中班"}},
            {"id": "night", "start": "22:00", "end": "06:00", "names": {"zh": "夜班"}},
        ],
        "measurements": {
            "quality": [
                {
                    "line": "line1",
                    "station": "st10",
                    "inspected": "st10_made",
                    "defective": "st10_bad",
                    "reworked": "st10_rework",
                    "wraps_at": 65536,
                },
                {
                    "line": "line1",
                    "station": "st20",
                    "inspected": "st20_made",
                    "defective": "st20_bad",
                },
            ]
        },
        "call_types": CALL_TYPES,
        "reason_codes": REASON_CODES,
        "areas": [
            {
                "id": "assembly",
                "lines": [
                    {
                        "id": "line1",
                        "name": "Line 1",
                        "names": {"zh": "一号线"},
                        "stations": [
                            {"id": "st10", "name": "Press-fit", "names": {"zh": "压装"}},
                            {"id": "st20", "name": "Screwing", "names": {"zh": "拧紧"}},
                            {"id": "st30", "name": "Leak test", "names": {"zh": "气密检测"}},
                        ],
                    },
                    {
                        "id": "line2",
                        "name": "Line 2",
                        "names": {"zh": "二号线"},
                        "stations": [{"id": "st40", "name": "Packing", "names": {"zh": "包装"}}],
                    },
                ],
            }
        ],
    }


def online_edges(api: httpx.Client) -> list[str]:
    edges = api.get("/api/edges").json()["edges"]
    return [edge["edge_id"] for edge in edges if edge["status"] == "online"]


# Every Content-Security-Policy violation a page of the running test met; a test fails
# at its end when there is one (``no_policy_violations``).
VIOLATIONS: list[str] = []
# Said on the console by the page itself, so a violation Chromium does not log is seen too.
_REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (event) => {
  const blocked = event.blockedURI || "inline";
  console.error(`CSP violation: ${event.effectiveDirective} blocked ${blocked}`);
});"""


def new_page(browser: Browser, *, width: int, height: int, locale: str = "en-GB") -> Page:
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    context.set_default_timeout(15_000)
    context.add_init_script(_REPORT_VIOLATIONS)
    page = context.new_page()
    page.on("console", _note_violation)
    return page


def _note_violation(message: ConsoleMessage) -> None:
    if message.type == "error" and (
        message.text.startswith("CSP violation") or "Content Security Policy" in message.text
    ):
        VIOLATIONS.append(message.text)


def screenshot(page: Page, name: str) -> None:
    """Keep the page's picture (for docs/pages.md when asked to update them)."""
    directory = SCREENSHOTS_TO[0] if SCREENSHOTS_TO else SCREENSHOTS
    directory.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=directory / f"{name}.png", full_page=True, animations="disabled")
