"""The pages' fixtures: a small plant (tests/helpers/web.py), headless Chromium, and the
check that no page broke the hub's Content-Security-Policy."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from contract.netutil import free_port
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from tests.helpers.charts import Gauge, bore
from tests.helpers.plant import AndonProcess, create_tokens, write_yaml
from tests.helpers.receiver import Receiver
from tests.helpers.waiting import wait_until
from tests.helpers.web import (
    CHROMIUM,
    COILS,
    COUNTERS,
    SCREENSHOTS,
    SCREENSHOTS_TO,
    VIOLATIONS,
    WebPlant,
    online_edges,
    web_escalation,
    web_hub_settings,
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as started:
        yield started


@pytest.fixture
def web_plant(
    tmp_path: Path,
    broker: MosquittoBroker,
    plc: SimulatedPlc,
    topic_prefix: str,
    receiver: Receiver,
) -> Iterator[WebPlant]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = web_hub_settings(broker, topic_prefix, port, tmp_path / "hub.sqlite3")
    hub_config = write_yaml(tmp_path / "hub.yaml", settings | web_escalation(receiver, base_url))
    edge_config = write_yaml(
        tmp_path / "edge.yaml",
        {
            "edge_id": "edge-line1",
            "site": "plant1",
            "area": "assembly",
            "line": "line1",
            "broker": {"host": broker.host, "port": broker.port, "topic_prefix": topic_prefix},
            "outbox": {"path": str(tmp_path / "outbox.sqlite3")},
            "poll_interval_s": 0.05,
            "debounce_s": 0.05,
            "devices": [{"kind": "modbus_tcp", "id": "plc1", "host": plc.host, "port": plc.port}],
            "measurements": [
                {
                    "device": "plc1",
                    "station": station,
                    "name": f"{station}_{name}",
                    "address": address,
                    # Every reading, not only changes: the hub's measurement process may
                    # subscribe after the edge's first reading (measurements are not kept
                    # for a subscriber that is not there yet).
                    "every_s": 0.5,
                }
                for (station, name), address in COUNTERS.items()
            ],
            "buttons": [
                {"device": "plc1", "address": a, "station": s, "call_type": t}
                for (s, a), t in zip(COILS.items(), ["maintenance", "quality"], strict=True)
            ],
        },
    )
    roles = ("viewer", "station", "responder", "engineer", "admin")
    wanted: dict[str, tuple[str, list[str]]] = {f"{role}-token": (role, []) for role in roles}
    made = create_tokens(hub_config, wanted | {"viewer-line2": ("viewer", ["line2"])})
    tokens = {role: made[f"{role}-token"] for role in roles}
    tokens["viewer-line2"] = made["viewer-line2"]
    hub = AndonProcess("hub", hub_config, tmp_path / "hub.log")
    edge = AndonProcess("edge", edge_config, tmp_path / "edge.log")
    plant = WebPlant(plc, hub, edge, base_url, tokens, receiver)
    try:
        hub.start()
        plant.wait_healthy()
        edge.start()
        with plant.api() as api:
            wait_until(lambda: online_edges(api), what="edge online")
        yield plant
    finally:
        edge.stop()
        hub.stop()


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run scripts/bootstrap.sh")
    with sync_playwright() as playwright:
        # --no-sandbox: the tests may run as root, where Chromium's sandbox cannot start.
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(autouse=True)
def no_policy_violations() -> Iterator[None]:
    """The pages run under the hub's Content-Security-Policy without breaking it."""
    VIOLATIONS.clear()
    yield
    found, VIOLATIONS[:] = list(VIOLATIONS), []
    assert found == [], "Content-Security-Policy violations"


@pytest.fixture(scope="session", autouse=True)
def screenshot_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """docs/screenshots with ANDON_UPDATE_SCREENSHOTS=1, else a directory of this run."""
    chosen = (
        SCREENSHOTS
        if os.environ.get("ANDON_UPDATE_SCREENSHOTS") == "1"
        else tmp_path_factory.mktemp("screenshots")
    )
    SCREENSHOTS_TO[:] = [chosen]
    return chosen


@pytest.fixture
def gauge(web_plant: WebPlant, broker: MosquittoBroker, topic_prefix: str) -> Iterator[Gauge]:
    """A gauge whose messages the hub takes: the hub's measurement process subscribes a
    moment after the hub is healthy, and a message sent before that reaches no one."""
    sender = Gauge(broker, topic_prefix)
    probe = {**bore(1, 1.0), "station": "st30", "characteristic": "probe", "measurement": "p"}

    def taken() -> bool:
        sender.send([probe])
        with web_plant.api() as api:
            listed = api.get("/api/characteristics", params={"station": "st30"}).json()
        return bool(listed["characteristics"])

    wait_until(taken, what="the hub's measurement path takes messages")
    yield sender
    sender.close()
