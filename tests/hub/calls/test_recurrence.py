"""Recurrences on both databases, through the API of a hub on a real database: a call at
the station of an earlier fix, within ``recurrence_days`` of it, with the same reason
code (or, raised for an SPC anomaly, on the same characteristic) is linked to it; where
the call type asks for it, such a call is resolved only with a root cause and a
countermeasure, kept on the call and offered by the knowledge base."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from contract.wire import utc_now
from hub.access.permissions import Role
from hub.calls.lifecycle import Actor, Source
from hub.config.file import load_hub_config
from hub.process.app import create_app
from tests.helpers.anomalies import call_for
from tests.helpers.hub import HubUnderTest, hub_settings
from tests.helpers.plant import write_yaml

pytestmark = pytest.mark.asyncio

RESPONDER = Actor("li-wei", Source.API)
ROOT_CAUSE = {"root_cause": "insert grade too soft for the new alloy",
              "countermeasure": "harder insert grade; tool life set to 400 parts"}  # fmt: skip


@pytest_asyncio.fixture
async def hub(tmp_path: Path, database_url: str) -> AsyncIterator[HubUnderTest]:
    settings = hub_settings(database_url)
    settings["call_types"] = [
        {"id": "maintenance", "root_cause_required": True},
        {"id": "quality", "verify": True},
        "help",
    ]
    config_path = write_yaml(tmp_path / "hub.yaml", settings)
    app = create_app(load_hub_config(config_path), config_path=config_path)
    async with app.router.lifespan_context(app):
        yield HubUnderTest(app, config_path)


async def _resolve(hub: HubUnderTest, call_id: int, reason: str, **more: str) -> Any:
    async with hub.client(Role.RESPONDER) as client:
        return await client.post(
            f"/api/calls/{call_id}/resolve", json={"reason_code": reason, **more}
        )


async def _call(hub: HubUnderTest, call_id: int) -> dict[str, Any]:
    async with hub.client(Role.VIEWER) as client:
        found: dict[str, Any] = (await client.get(f"/api/calls/{call_id}")).json()
    return found


async def test_a_call_with_the_same_reason_at_the_station_within_the_days_recurs(
    hub: HubUnderTest,
) -> None:
    now = utc_now()
    # Fixed ten days ago (an hour after its press): past the 7 days by now.
    old = hub.raise_call("st10", "help", at=now - timedelta(days=10))
    hub.store.transition(
        old, "resolve", now - timedelta(days=10, hours=-1), actor=RESPONDER,
        details={"reason_code": "tool-worn"},
    )  # fmt: skip
    first = hub.raise_call("st10", "help", at=now - timedelta(days=2))
    assert (await _resolve(hub, first, "tool-worn")).json()["recurrence_of"] is None
    other_reason = hub.raise_call("st10", "help")
    assert (await _resolve(hub, other_reason, "adjusted")).json()["recurrence_of"] is None
    other_station = hub.raise_call("st20", "help")
    assert (await _resolve(hub, other_station, "tool-worn")).json()["recurrence_of"] is None
    again = hub.raise_call("st10", "help")
    resolved = await _resolve(hub, again, "tool-worn")
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["recurrence_of"] == first  # the latest fix, not the old one
    assert (await _call(hub, again))["recurrence_of"] == first
    # help needs no root cause: none was asked for, none is kept.
    assert (await _call(hub, again))["root_cause"] is None

    # The reports count them over the calls of the period (the week before now: the call
    # fixed ten days ago is not in it), by station and by reason code.
    async with hub.client(Role.VIEWER) as client:
        path = "/api/reports/recurrences"
        stations = (await client.get(path, params={"by": "station"})).json()
        reasons = (await client.get(path, params={"by": "reason_code"})).json()
        as_csv = (await client.get(path, params={"by": "station", "format": "csv"})).text
    rows = [(r["key"], r["resolved"], r["recurrences"], r["rate"]) for r in stations["rows"]]
    assert rows == [("line1/st10", 3, 1, 1 / 3), ("line1/st20", 1, 0, 0.0)]
    assert stations["recurrence_days"] == 7
    rows = [(r["key"], r["resolved"], r["recurrences"], r["rate"]) for r in reasons["rows"]]
    assert rows == [("tool-worn", 3, 1, 1 / 3), ("adjusted", 1, 0, 0.0)]
    assert as_csv.splitlines() == [
        "key,label,resolved,recurrences,rate",
        "line1/st10,line1 / st10,3,1,0.333333",
        "line1/st20,line1 / st20,1,0,0.000000",
    ]


async def test_a_recurrence_of_a_type_that_asks_needs_a_root_cause_and_a_countermeasure(
    hub: HubUnderTest,
) -> None:
    first = hub.raise_call("st10", "maintenance")
    assert (await _resolve(hub, first, "tool-worn")).status_code == 200
    again = hub.raise_call("st10", "maintenance")
    for missing in ({}, {"root_cause": ROOT_CAUSE["root_cause"]}, {"countermeasure": "x"}):
        refused = await _resolve(hub, again, "tool-worn", note="changed insert", **missing)
        assert refused.status_code == 409, refused.text
        detail = refused.json()["detail"]
        assert f"recurs call {first}" in detail
        assert "needs a root_cause and a countermeasure" in detail
    untouched = await _call(hub, again)
    assert (untouched["state"], untouched["reason_code"], untouched["note"]) == (
        "raised", None, None,
    )  # fmt: skip
    assert untouched["recurrence_of"] is None
    # Another reason is no recurrence: no root cause needed.
    elsewhere = hub.raise_call("st20", "maintenance")
    assert (await _resolve(hub, elsewhere, "tool-worn")).status_code == 200

    resolved = await _resolve(hub, again, "tool-worn", note="changed insert", **ROOT_CAUSE)
    assert resolved.status_code == 200, resolved.text
    kept = await _call(hub, again)
    assert kept["recurrence_of"] == first
    assert (kept["root_cause"], kept["countermeasure"]) == (
        ROOT_CAUSE["root_cause"], ROOT_CAUSE["countermeasure"],
    )  # fmt: skip
    # The next call at the station is offered that fix, root cause and all.
    later = hub.raise_call("st10", "maintenance")
    async with hub.client(Role.VIEWER) as client:
        fixes = (await client.get(f"/api/calls/{later}/suggestions")).json()["most_recent"]
    assert fixes[0]["call_id"] == again
    assert (fixes[0]["recurrence_of"], fixes[0]["root_cause"], fixes[0]["countermeasure"]) == (
        first, ROOT_CAUSE["root_cause"], ROOT_CAUSE["countermeasure"],
    )  # fmt: skip


async def test_an_spc_call_on_the_same_characteristic_recurs_from_its_raise(
    hub: HubUnderTest,
) -> None:
    first = await call_for(hub, "st10", "bore")
    assert first["recurrence_of"] is None
    assert (await _resolve(hub, first["id"], "tool-worn")).status_code == 200
    other = await call_for(hub, "st20", "bore")  # another station: no recurrence
    assert other["recurrence_of"] is None
    assert (await _resolve(hub, other["id"], "adjusted")).status_code == 200
    torque = await call_for(hub, "st10", "torque")  # another characteristic
    assert torque["recurrence_of"] is None
    assert (await _resolve(hub, torque["id"], "adjusted")).status_code == 200
    again = await call_for(hub, "st10", "bore")
    assert again["recurrence_of"] == first["id"]  # known at its raise: on the board at once
    async with hub.client(Role.VIEWER) as client:
        board = (await client.get("/api/board")).json()
    assert _board_recurrence(board, again["id"]) == first["id"]
    # Resolved with another reason, it stays the characteristic's recurrence.
    resolved = await _resolve(hub, again["id"], "adjusted")
    assert resolved.json()["recurrence_of"] == first["id"]


def _board_recurrence(board: dict[str, Any], call_id: int) -> int | None:
    for tile in board["tiles"]:
        for call in tile["calls"]:
            if call["id"] == call_id:
                found: int | None = call["recurrence_of"]
                return found
    raise AssertionError(f"call {call_id} is not on the board")
