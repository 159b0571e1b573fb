"""A button call's resolution names its stop's reason, on both databases: the machine's
reports and the press go through the hub's ingest with chosen edge times, the call is
resolved through the API, and the downtime list shows the reason and the call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from contract.wire import MachineEvent, MachinePayload, Topics, event_json
from hub.access.permissions import Role
from hub.calls.station_events import IngestOutcome
from hub.config.file import load_hub_config
from hub.process.app import create_app
from tests.helpers.hub import SITE, HubUnderTest, hub_settings
from tests.helpers.plant import write_yaml

pytestmark = pytest.mark.asyncio

T0 = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)

# (minute, state): what the edge saw at line1/st10, when.
SCRIPT = [
    (0, "running"),
    (10, "down"),  # the machine stops; a worker calls maintenance at minute 12
    (40, "running"),
    (46, "blocked"),  # a call at minute 45 stops the line: the stop follows the call
    (60, "running"),
    (70, "idle"),  # given its reason by a responder first; a call at 72 leaves it be
    (80, "running"),
    (90, "starved"),  # a stop after the call at 85 was resolved: not the call's
    (95, "running"),
]


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def _report(seq: int, minute: float, state: str) -> tuple[str, bytes]:
    seq += 1000  # apart from the presses' numbers
    event = MachineEvent(
        event_id=f"edge-test:{seq}", edge_id="edge-test", seq=seq, ts=at(minute), site=SITE,
        area="assembly", line="line1", station="st10", kind="machine",
        payload=MachinePayload.model_validate({"state": state, "ideal_cycle_s": 10.0}),
    )  # fmt: skip
    topic = Topics().station_event(SITE, "assembly", "line1", "st10", "edge-test")
    return topic, event_json(event).encode()


@pytest_asyncio.fixture
async def hub(tmp_path: Path, database_url: str) -> AsyncIterator[HubUnderTest]:
    settings = hub_settings(database_url)
    settings["reason_codes"] = [*settings["reason_codes"], "no-material", "jammed"]
    config_path = write_yaml(tmp_path / "hub.yaml", settings)
    app = create_app(load_hub_config(config_path), config_path=config_path)
    async with app.router.lifespan_context(app):
        yield HubUnderTest(app, config_path)


class Machine:
    """The script's reports, sent through the hub's ingest up to a minute at a time."""

    def __init__(self, hub: HubUnderTest) -> None:
        self.hub = hub
        self.sent = 0

    def play(self, until_minute: float) -> None:
        due = [(n, step) for n, step in enumerate(SCRIPT) if n >= self.sent]
        messages = [_report(n, *step) for n, step in due if step[0] <= until_minute]
        self.sent += len(messages)
        assert self.hub.ingest_presses(*messages) == [IngestOutcome.MACHINE] * len(messages)


async def _resolve(hub: HubUnderTest, call_id: int, reason: str) -> None:
    async with hub.client(Role.RESPONDER) as client:
        response = await client.post(
            f"/api/calls/{call_id}/resolve", json={"reason_code": reason, "note": "fixed"}
        )
    assert response.status_code == 200, response.text


async def _periods(hub: HubUnderTest) -> dict[str, dict[str, Any]]:
    async with hub.client(Role.VIEWER) as client:
        response = await client.get(
            "/api/downtime", params={"since": T0.isoformat(), "until": at(120).isoformat()}
        )
    assert response.status_code == 200, response.text
    return {p["state"]: p for p in response.json()["periods"]}


async def test_a_resolved_call_names_the_reason_of_its_stop_and_only_that(
    hub: HubUnderTest,
) -> None:
    machine = Machine(hub)
    machine.play(12)
    during = hub.raise_call("st10", at=at(12))
    await _resolve(hub, during, "adjusted")
    machine.play(45)
    before_its_stop = hub.raise_call("st10", at=at(45))
    machine.play(46)
    await _resolve(hub, before_its_stop, "no-material")
    machine.play(72)
    idle = (await _periods(hub))["idle"]
    async with hub.client(Role.RESPONDER) as client:
        given = await client.post(f"/api/downtime/{idle['id']}/reason", json={"reason": "jammed"})
    assert given.status_code == 200, given.text
    on_a_given_reason = hub.raise_call("st10", at=at(72))
    await _resolve(hub, on_a_given_reason, "adjusted")
    machine.play(85)
    after_its_stop = hub.raise_call("st10", at=at(85))
    await _resolve(hub, after_its_stop, "adjusted")
    machine.play(95)  # the starved stop begins after its call was resolved
    periods = await _periods(hub)
    assert (periods["down"]["reason"], periods["down"]["call_id"]) == ("adjusted", during)
    blocked = periods["blocked"]
    assert (blocked["reason"], blocked["call_id"]) == ("no-material", before_its_stop)
    assert (periods["idle"]["reason"], periods["idle"]["call_id"]) == ("jammed", on_a_given_reason)
    assert (periods["starved"]["reason"], periods["starved"]["call_id"]) == (None, None)


async def test_a_call_resolved_while_the_machine_runs_names_no_stop(hub: HubUnderTest) -> None:
    machine = Machine(hub)
    machine.play(0)
    call_id = hub.raise_call("st10", at=at(5))
    await _resolve(hub, call_id, "no-material")
    machine.play(12)
    (down,) = (await _periods(hub)).values()
    assert (down["reason"], down["call_id"]) == (None, None)
