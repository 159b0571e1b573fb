"""The knowledge base: a call shows how earlier calls at its station and of its call type
were fixed, the most frequent reasons and the most recent fixes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.access.permissions import Role
from hub.calls.lifecycle import Actor, Source
from tests.helpers.hub import HubUnderTest

pytestmark = pytest.mark.asyncio

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _fixed(
    hub: HubUnderTest, station: str, call_type: str, hours: int, reason: str, note: str
) -> int:
    at = T0 + timedelta(hours=hours)
    call_id = hub.raise_call(station, call_type, at=at)
    hub.store.transition(
        call_id, "resolve", at + timedelta(minutes=5), actor=Actor("wang-fang", Source.API),
        details={"reason_code": reason, "note": note},
    )  # fmt: skip
    return call_id


async def test_a_new_call_shows_the_most_frequent_and_most_recent_fixes_of_its_kind(
    hub: HubUnderTest,
) -> None:
    _fixed(hub, "st10", "maintenance", 0, "tool-worn", "changed the insert")
    _fixed(hub, "st10", "maintenance", 1, "adjusted", "reset the clamp")
    latest = _fixed(hub, "st10", "maintenance", 2, "tool-worn", "new drill bit")
    _fixed(hub, "st20", "maintenance", 3, "adjusted", "another station")
    _fixed(hub, "st10", "help", 4, "adjusted", "another call type")
    cancelled = hub.raise_call("st10", "maintenance", at=T0 + timedelta(hours=5))
    hub.store.transition(
        cancelled, "cancel", T0 + timedelta(hours=5, minutes=1), actor=Actor("op", Source.API),
        details={"cancel_reason": "mistake"},
    )  # fmt: skip
    new = hub.raise_call("st10", "maintenance", at=T0 + timedelta(hours=6))

    async with hub.client(Role.RESPONDER) as client:
        response = await client.get(f"/api/calls/{new}/suggestions")
    assert response.status_code == 200, response.text
    found = response.json()
    assert [(f["reason_code"], f["calls"]) for f in found["most_frequent"]] == [
        ("tool-worn", 2), ("adjusted", 1),
    ]  # fmt: skip
    assert found["most_frequent"][0]["last_resolved_at"].startswith("2026-03-02T03:05:00")
    recent = found["most_recent"]
    assert [f["note"] for f in recent] == ["new drill bit", "reset the clamp", "changed the insert"]
    assert recent[0]["call_id"] == latest
    assert recent[0]["resolved_by"] == "wang-fang"


async def test_a_station_with_no_earlier_fix_has_no_suggestions(hub: HubUnderTest) -> None:
    new = hub.raise_call("st20", "quality")
    async with hub.client(Role.VIEWER) as client:
        found = (await client.get(f"/api/calls/{new}/suggestions")).json()
    assert (found["most_frequent"], found["most_recent"]) == ([], [])


async def test_suggestions_of_an_unknown_call_or_another_line_are_refused(
    hub: HubUnderTest,
) -> None:
    theirs = hub.raise_call("st10")
    async with hub.client(Role.RESPONDER, "line2") as client:
        assert (await client.get(f"/api/calls/{theirs}/suggestions")).status_code == 403
        missing = await client.get("/api/calls/999999/suggestions")
    assert missing.status_code == 404
    assert "no call 999999" in missing.text
