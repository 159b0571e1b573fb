"""The knowledge base by characteristic, on both databases: SPC anomalies come in as an
edge publishes them, a call is raised for one through the API, resolved with a reason
and a note, and the next call on the same characteristic (at another station too) shows
that fix, labelled as the characteristic's; a call on another characteristic does not."""

from __future__ import annotations

from typing import Any

import pytest

from hub.access.permissions import Role
from tests.helpers.anomalies import anomaly, call_for
from tests.helpers.hub import HubUnderTest

pytestmark = pytest.mark.asyncio


async def _resolve(hub: HubUnderTest, call_id: int, reason: str, note: str) -> None:
    async with hub.client(Role.RESPONDER) as client:
        response = await client.post(
            f"/api/calls/{call_id}/resolve", json={"reason_code": reason, "note": note}
        )
    assert response.status_code == 200, response.text


async def _suggestions(hub: HubUnderTest, call_id: int, *lines: str) -> dict[str, Any]:
    async with hub.client(Role.VIEWER, *lines) as client:
        response = await client.get(f"/api/calls/{call_id}/suggestions")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_a_call_on_a_characteristic_shows_the_fixes_of_earlier_calls_on_it(
    hub: HubUnderTest,
) -> None:
    first = await call_for(hub, "st10", "bore")
    assert (first["call_type"], first["characteristic"]) == ("quality", "bore")
    assert first["part_serial"] is not None
    await _resolve(hub, first["id"], "tool-worn", "changed the boring bar insert")
    other = await call_for(hub, "st10", "torque")
    await _resolve(hub, other["id"], "adjusted", "recalibrated the nutrunner")

    again = await call_for(hub, "st20", "bore")  # the same characteristic, another station
    found = await _suggestions(hub, again["id"])
    assert found["characteristic"] == "bore"
    same = found["same_characteristic"]
    assert [(f["call_id"], f["note"], f["station"]) for f in same["most_recent"]] == [
        (first["id"], "changed the boring bar insert", "st10"),
    ]  # fmt: skip
    assert [(f["reason_code"], f["calls"]) for f in same["most_frequent"]] == [("tool-worn", 1)]
    assert found["most_recent"] == []  # st20 has had no quality call fixed

    on_torque = await call_for(hub, "st20", "torque")
    assert on_torque["id"] == again["id"]  # joined: one open quality call per station
    await _resolve(hub, again["id"], "adjusted", "reset the spindle offset")
    y = await call_for(hub, "st20", "flatness")
    found_y = await _suggestions(hub, y["id"])
    assert found_y["characteristic"] == "flatness"
    assert found_y["same_characteristic"] == {"most_frequent": [], "most_recent": []}
    notes = [f["note"] for f in found_y["most_recent"]]  # st20's own quality fix still shows
    assert notes == ["reset the spindle offset"]


async def test_a_call_from_a_panel_has_no_characteristic_fixes(hub: HubUnderTest) -> None:
    first = await call_for(hub, "st10", "bore")
    await _resolve(hub, first["id"], "tool-worn", "changed the insert")
    panel = hub.raise_call("st10", "quality")
    found = await _suggestions(hub, panel)
    assert (found["characteristic"], found["same_characteristic"]) == (None, None)
    assert [f["note"] for f in found["most_recent"]] == ["changed the insert"]


async def test_fixes_on_a_characteristic_stay_within_the_lines_a_token_may_read(
    hub: HubUnderTest,
) -> None:
    first = await call_for(hub, "st10", "bore")
    await _resolve(hub, first["id"], "tool-worn", "line 1's fix")
    line1_anomaly = await anomaly(hub, "st10", "bore")
    anomaly_id = await anomaly(hub, "st30", "bore", line="line2")
    async with hub.client(Role.STATION, "line2") as client:
        response = await client.post(f"/api/anomalies/{anomaly_id}/call")
        assert response.status_code == 201, response.text
        line2_call = response.json()["id"]
        assert (await client.post(f"/api/anomalies/{anomaly_id + 999}/call")).status_code == 404
    mine = await _suggestions(hub, line2_call, "line2")
    assert mine["same_characteristic"]["most_recent"] == []
    everyone = await _suggestions(hub, line2_call)
    assert [f["note"] for f in everyone["same_characteristic"]["most_recent"]] == ["line 1's fix"]
    async with hub.client(Role.STATION, "line2") as client:
        refused = await client.post(f"/api/anomalies/{line1_anomaly}/call")
    assert refused.status_code == 403  # that anomaly is line 1's
