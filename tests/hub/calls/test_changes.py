"""Call changes are announced to listeners inside the hub: from the API and from ingest."""

from __future__ import annotations

import asyncio

import pytest

from hub.access.permissions import Role
from hub.calls.news import CallChange, CallChanges
from tests.helpers.hub import HubUnderTest

pytestmark = pytest.mark.asyncio


async def _drain(queue: asyncio.Queue[CallChange], count: int) -> list[CallChange]:
    return [await asyncio.wait_for(queue.get(), timeout=10) for _ in range(count)]


async def test_api_raise_join_and_transitions_are_announced_in_order(hub: HubUnderTest) -> None:
    changes: CallChanges = hub.app.state.changes
    body = {"area": "assembly", "line": "line2", "station": "st30", "call_type": "help"}
    with changes.listen() as queue:
        async with hub.client(Role.ADMIN) as admin:
            call_id = (await admin.post("/api/calls", json=body)).json()["id"]
            await admin.post("/api/calls", json=body)
            await admin.post(f"/api/calls/{call_id}/acknowledge")
            refused = await admin.post(f"/api/calls/{call_id}/acknowledge")
            assert refused.status_code == 409
        received = await _drain(queue, 3)
        assert queue.empty()  # the refused acknowledgement changed nothing
    assert received == [
        CallChange(call_id, "assembly", "line2", "st30", action)
        for action in ("raised", "joined", "acknowledged")
    ]


async def test_an_ingested_batch_reports_the_calls_it_changed(hub: HubUnderTest) -> None:
    report = hub.ingest.handle_batch([hub.press("st10"), hub.press("st10"), hub.press("st20")])
    actions = [(change.station, change.action) for change in report.changes]
    assert actions == [("st10", "raised"), ("st10", "joined"), ("st20", "raised")]
    again = hub.ingest.handle_batch([hub.press("st10")])
    assert [change.call_id for change in again.changes] == [report.changes[0].call_id]


async def test_a_listener_hears_nothing_after_it_stopped_listening(hub: HubUnderTest) -> None:
    changes: CallChanges = hub.app.state.changes
    with changes.listen() as queue:
        pass
    changes.announce(CallChange(1, "assembly", "line1", "st10", "raised"))
    await asyncio.sleep(0)
    assert queue.empty()
