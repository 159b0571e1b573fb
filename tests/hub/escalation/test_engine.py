"""The engine end to end in one hub: levels on time, acknowledgement, resumption, stops.

The hub runs its real lifespan on a real database (both backends); messages go to a
local HTTP receiver through signed webhooks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from contract.wire import utc_now
from hub.access.permissions import Role
from hub.calls.lifecycle import CallState
from tests.helpers.escalation import (
    announce,
    escalation,
    escalation_settings,
    levels,
    pass_at,
    received,
    running_hub,
)
from tests.helpers.hub import HubUnderTest
from tests.helpers.plant import write_yaml
from tests.helpers.receiver import Receiver
from tests.helpers.waiting import until

pytestmark = pytest.mark.asyncio


async def test_nobody_acknowledges_all_levels_arrive_in_order_at_their_times(
    esc_hub: HubUnderTest, receiver: Receiver
) -> None:
    announce(esc_hub, esc_hub.press())
    got = await received(receiver, 3)
    assert levels(receiver) == [("/li-wei", 0), ("/zhang-min", 1), ("/boss", 2)]
    call_id = esc_hub.store_calls()[0].id
    base = escalation(esc_hub.store, call_id)["base_at"].timestamp()
    for message, after_s in zip(got, (0, 2, 4), strict=True):
        assert message.at >= base + after_s  # never before its time
        assert message.json()["step_s"] == after_s
    # The last level does not repeat: a pass well after its time has nothing to send.
    assert await pass_at(esc_hub, datetime.fromtimestamp(base, UTC) + timedelta(seconds=10)) == []
    assert len(receiver.received) == 3


async def test_acknowledged_between_levels_nothing_further_arrives(
    slow_hub: HubUnderTest, receiver: Receiver
) -> None:
    announce(slow_hub, slow_hub.press())
    await received(receiver, 1)
    call_id = slow_hub.store_calls()[0].id
    async with slow_hub.client(Role.RESPONDER) as client:
        response = await client.post(f"/api/calls/{call_id}/acknowledge")
    assert response.status_code == 200
    base = escalation(slow_hub.store, call_id)["base_at"]
    assert await pass_at(slow_hub, base + timedelta(seconds=7)) == []  # after the last level
    assert levels(receiver) == [("/li-wei", 0)]
    assert escalation(slow_hub.store, call_id)["status"] == "ack_wait"


async def test_acknowledged_without_arrival_escalation_resumes_after_the_timeout(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    settings = escalation_settings(database_url, receiver, ack_timeout_s=1)
    async with running_hub(write_yaml(tmp_path / "hub.yaml", settings)) as hub:
        announce(hub, hub.press())
        await received(receiver, 1)
        call_id = hub.store_calls()[0].id
        async with hub.client(Role.RESPONDER) as client:
            assert (await client.post(f"/api/calls/{call_id}/acknowledge")).status_code == 200
        acknowledged_at = hub.store.get_call(call_id).acknowledged_at
        assert acknowledged_at is not None
        got = await received(receiver, 2)
        resumed = got[1].json()
        assert (got[1].path, resumed["level"], resumed["resumed"]) == ("/zhang-min", 1, True)
        assert "nobody arrived within 1 s: escalation resumes" in resumed["text"]
        assert got[1].at >= (acknowledged_at + timedelta(seconds=1)).timestamp()
        # Resumed, it goes on at its own pace: the next level follows.
        await received(receiver, 3)
        assert levels(receiver)[2] == ("/boss", 2)


async def test_arrival_stops_the_paging(slow_hub: HubUnderTest, receiver: Receiver) -> None:
    announce(slow_hub, slow_hub.press())
    await received(receiver, 1)
    call_id = slow_hub.store_calls()[0].id
    async with slow_hub.client(Role.RESPONDER) as client:
        assert (await client.post(f"/api/calls/{call_id}/arrive")).status_code == 200
    base = escalation(slow_hub.store, call_id)["base_at"]
    assert await pass_at(slow_hub, base + timedelta(seconds=7)) == []  # after the last level
    assert levels(receiver) == [("/li-wei", 0)]
    assert escalation(slow_hub.store, call_id)["stop_reason"] == "arrived"


async def test_a_call_cancelled_before_a_level_is_due_never_reaches_that_level(
    slow_hub: HubUnderTest, receiver: Receiver
) -> None:
    announce(slow_hub, slow_hub.press())
    await received(receiver, 1)
    call_id = slow_hub.store_calls()[0].id
    async with slow_hub.client(Role.STATION) as client:
        response = await client.post(f"/api/calls/{call_id}/cancel", json={"reason": "by mistake"})
    assert response.status_code == 200
    base = escalation(slow_hub.store, call_id)["base_at"]
    assert await pass_at(slow_hub, base + timedelta(seconds=7)) == []  # after the last level
    assert levels(receiver) == [("/li-wei", 0)]
    row = escalation(slow_hub.store, call_id)
    assert (row["status"], row["due_at"]) == ("stopped", None)


async def test_a_call_raised_through_the_api_escalates_from_the_same_transaction(
    esc_hub: HubUnderTest, receiver: Receiver
) -> None:
    body = {"area": "assembly", "line": "line1", "station": "st20", "call_type": "maintenance"}
    async with esc_hub.client(Role.STATION) as client:
        response = await client.post("/api/calls", json=body)
    assert response.status_code == 201
    call_id = response.json()["id"]
    assert escalation(esc_hub.store, call_id)["policy_id"] == "maintenance-calls"
    got = await received(receiver, 1)
    assert (got[0].json()["call_id"], got[0].json()["station"]) == (call_id, "st20")


async def test_a_reload_during_an_open_call_does_not_change_that_calls_policy(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    path = tmp_path / "hub.yaml"
    write_yaml(path, escalation_settings(database_url, receiver))
    async with running_hub(path) as hub:
        announce(hub, hub.press("st10"))
        await received(receiver, 1)
        changed = escalation_settings(
            database_url, receiver, levels=[{"after_s": 0, "notify": ["person:boss"]}]
        )
        write_yaml(path, changed)
        assert hub.app.state.config.reload(actor="test", now=utc_now()).ok
        announce(hub, hub.press("st20"))  # a new call: the new policy
        await received(receiver, 4)
        # Nothing more is due, now or once every level's time has passed.
        assert await pass_at(hub, utc_now() + timedelta(seconds=10)) == []
        by_station: dict[str, list[tuple[str, int]]] = {}
        for message in receiver.received:
            body = message.json()
            by_station.setdefault(body["station"], []).append((message.path, body["level"]))
        assert by_station["st10"] == [("/li-wei", 0), ("/zhang-min", 1), ("/boss", 2)]
        assert by_station["st20"] == [("/boss", 0)]


async def test_line_stop_after_s_commands_the_line_stop_on_the_calls_timeline(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    settings = escalation_settings(database_url, receiver, line_stop_after_s=1)
    async with running_hub(write_yaml(tmp_path / "hub.yaml", settings)) as hub:
        with hub.app.state.changes.listen() as heard:
            announce(hub, hub.press())
            call_id = hub.store_calls()[0].id
            await until(lambda: hub.store.get_call(call_id).line_stop_at, what="line stop")
            seen: list[tuple[str, int]] = []

            def announced() -> bool:
                # The change is announced after the commit, on the event loop's next turn.
                while not heard.empty():
                    change = heard.get_nowait()
                    seen.append((change.action, change.call_id))
                return ("line_stop", call_id) in seen

            await until(announced, what="the line stop announced")
        call = hub.store.get_call(call_id)
        assert call.line_stop_at is not None
        assert call.received_at is not None
        assert call.line_stop_at >= call.received_at + timedelta(seconds=1)
        actions = [entry.action for entry in hub.store.timeline(call_id)]
        assert "line_stop" in actions


async def test_a_call_resolved_before_its_line_stop_deadline_never_stops_the_line(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    # Deadline far enough out that a busy machine still resolves the call before it.
    settings = escalation_settings(database_url, receiver, line_stop_after_s=4)
    async with running_hub(write_yaml(tmp_path / "hub.yaml", settings)) as hub:
        announce(hub, hub.press())
        call_id = hub.store_calls()[0].id
        async with hub.client(Role.RESPONDER) as client:
            body = {"reason_code": "adjusted"}
            assert (
                await client.post(f"/api/calls/{call_id}/resolve", json=body)
            ).status_code == 200
        received_at = hub.store.get_call(call_id).received_at
        assert received_at is not None
        # A pass after the deadline: resolved, the call's line stop is no longer due.
        await pass_at(hub, received_at + timedelta(seconds=5))
        call = hub.store.get_call(call_id)
        assert (call.state, call.line_stop_at) == (CallState.RESOLVED, None)


async def test_nobody_on_shift_the_level_goes_to_the_rosters_fallback(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    settings = escalation_settings(database_url, receiver)
    # A roster in a zone other than the machine's, whose only shift is never now.
    now_local = utc_now().astimezone(ZoneInfo("Asia/Shanghai"))
    weekday = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][(now_local.weekday() + 3) % 7]
    settings["rosters"][0]["timezone"] = "Asia/Shanghai"
    settings["rosters"][0]["shifts"] = [
        {"members": ["li-wei"], "days": [weekday], "start": "22:00", "end": "06:00"}
    ]
    async with running_hub(write_yaml(tmp_path / "hub.yaml", settings)) as hub:
        announce(hub, hub.press())
        got = await received(receiver, 1)
        assert (got[0].path, got[0].json()["via"]) == ("/boss", "fallback:maintenance")
