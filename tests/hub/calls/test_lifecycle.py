"""The call lifecycle through the API: every transition, its timeline, 409s and durations."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from contract.wire import utc_now
from hub.access.permissions import Role
from tests.helpers.hub import HubUnderTest

pytestmark = pytest.mark.asyncio


async def test_a_call_walks_raised_acknowledged_arrived_resolved_with_its_timeline(
    hub: HubUnderTest,
) -> None:
    pressed = utc_now() - timedelta(seconds=30)
    call_id = hub.raise_call("st10", at=pressed)
    async with hub.client(Role.RESPONDER) as responder:
        assert (await responder.post(f"/api/calls/{call_id}/acknowledge")).status_code == 200
        arrived = await responder.post(f"/api/calls/{call_id}/arrive")
        assert arrived.json()["state"] == "arrived"
        resolved = await responder.post(
            f"/api/calls/{call_id}/resolve", json={"reason_code": "tool-worn", "note": "insert"}
        )
        body = resolved.json()
        assert (body["state"], body["reason_code"], body["note"]) == (
            "resolved", "tool-worn", "insert"
        )  # fmt: skip
        detail = (await responder.get(f"/api/calls/{call_id}")).json()
    assert [e["action"] for e in detail["timeline"]] == [
        "raised", "acknowledged", "arrived", "resolved"
    ]  # fmt: skip
    assert [(e["actor"], e["source"]) for e in detail["timeline"]] == [
        ("st10", "station"),
        *[("responder-all", "api")] * 3,
    ]
    assert detail["timeline"][3]["detail"] == {"reason_code": "tool-worn", "note": "insert"}
    # The press time from the edge and the hub's receipt are kept apart.
    raised_at = datetime.fromisoformat(detail["raised_at"])
    received_at = datetime.fromisoformat(detail["received_at"])
    assert raised_at == pressed
    assert received_at - raised_at >= timedelta(seconds=30)
    times = [
        datetime.fromisoformat(detail[k]) for k in ("acknowledged_at", "arrived_at", "resolved_at")
    ]
    durations = detail["durations"]
    assert durations["to_acknowledge_s"] == pytest.approx((times[0] - raised_at).total_seconds())
    assert durations["to_arrive_s"] == pytest.approx((times[1] - raised_at).total_seconds())
    assert durations["to_resolve_s"] == pytest.approx((times[2] - raised_at).total_seconds())
    assert durations["unattended_s"] == pytest.approx((times[1] - raised_at).total_seconds())
    assert detail["acknowledged_by"] == "responder-all"


@pytest.mark.parametrize(
    ("steps", "refused", "state"),
    [
        ([], "verify", "raised"),
        (["acknowledge"], "acknowledge", "acknowledged"),
        (["arrive"], "acknowledge", "arrived"),
        (["resolve"], "arrive", "resolved"),
        (["resolve"], "verify", "resolved"),  # maintenance needs no verification
        (["cancel"], "resolve", "cancelled"),
        (["resolve"], "cancel", "resolved"),
    ],
)
async def test_a_transition_the_state_does_not_allow_is_a_409_naming_the_state(
    hub: HubUnderTest, steps: list[str], refused: str, state: str
) -> None:
    call_id = hub.raise_call("st20")
    async with hub.client(Role.ADMIN) as admin:
        for step in steps:
            (await admin.post(f"/api/calls/{call_id}/{step}", json=_body(step))).raise_for_status()
        response = await admin.post(f"/api/calls/{call_id}/{refused}", json=_body(refused))
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert (problem["status"], problem["state"]) == (409, state)
        assert f"call {call_id} is {state}" in problem["detail"]
        assert (await admin.get(f"/api/calls/{call_id}")).json()["state"] == state


def _body(action: str) -> dict[str, str] | None:
    return {
        "resolve": {"reason_code": "adjusted"},
        "cancel": {"reason": "pressed by mistake"},
    }.get(action)


async def test_verification_is_asked_only_for_call_types_configured_for_it(
    hub: HubUnderTest,
) -> None:
    quality = hub.raise_call("st10", "quality")
    async with hub.client(Role.RESPONDER) as responder, hub.client(Role.STATION) as panel:
        await responder.post(f"/api/calls/{quality}/resolve", json={"reason_code": "adjusted"})
        listed = (await panel.get("/api/calls", params={"state": "resolved"})).json()["calls"]
        assert [(c["id"], c["needs_verification"]) for c in listed] == [(quality, True)]
        verified = await panel.post(f"/api/calls/{quality}/verify")
        assert verified.json()["state"] == "verified"
        timeline = (await panel.get(f"/api/calls/{quality}")).json()["timeline"]
        assert timeline[-1]["action"] == "verified"


async def test_a_station_cancels_a_mistaken_call_with_a_reason(hub: HubUnderTest) -> None:
    call_id = hub.raise_call("st10")
    async with hub.client(Role.STATION) as panel:
        missing = await panel.post(f"/api/calls/{call_id}/cancel", json={})
        assert missing.status_code == 422
        cancelled = await panel.post(f"/api/calls/{call_id}/cancel", json={"reason": "mistake"})
        assert (cancelled.json()["state"], cancelled.json()["cancel_reason"]) == (
            "cancelled", "mistake"
        )  # fmt: skip
    # A press after the cancel is a new call, not a join.
    assert hub.raise_call("st10") != call_id


async def test_a_panel_raises_a_call_and_a_second_raise_joins_it(hub: HubUnderTest) -> None:
    body = {"area": "assembly", "line": "line2", "station": "st30", "call_type": "help"}
    async with hub.client(Role.STATION) as panel:
        first = await panel.post("/api/calls", json=body)
        assert first.status_code == 201
        again = await panel.post("/api/calls", json=body)
        assert again.json()["id"] == first.json()["id"]
        assert again.json()["presses"] == 2
        unknown = await panel.post("/api/calls", json={**body, "station": "st99"})
        assert unknown.status_code == 409
        timeline = (await panel.get(f"/api/calls/{first.json()['id']}")).json()["timeline"]
    assert [(e["action"], e["actor"], e["source"]) for e in timeline] == [
        ("raised", "station-all", "api")
    ]


async def test_an_unknown_call_is_a_404(hub: HubUnderTest) -> None:
    async with hub.client(Role.ADMIN) as admin:
        assert (await admin.get("/api/calls/999")).status_code == 404
        assert (await admin.post("/api/calls/999/acknowledge")).status_code == 404


async def test_an_unknown_reason_code_is_refused_with_the_known_ones(hub: HubUnderTest) -> None:
    call_id = hub.raise_call("st10")
    async with hub.client(Role.RESPONDER) as responder:
        refused = await responder.post(f"/api/calls/{call_id}/resolve", json={"reason_code": "x"})
    assert refused.status_code == 409
    assert "expected one of: tool-worn, adjusted" in refused.json()["detail"]


async def test_metrics_count_open_calls_and_the_time_to_each_step(hub: HubUnderTest) -> None:
    first = hub.raise_call("st10", at=utc_now() - timedelta(seconds=40))
    hub.raise_call("st30", "help", line="line2")
    async with hub.client(Role.RESPONDER) as responder:
        await responder.post(f"/api/calls/{first}/acknowledge")
        await responder.post(f"/api/calls/{first}/arrive")
        await responder.post(f"/api/calls/{first}/resolve", json={"reason_code": "adjusted"})
        text = (await responder.get("/metrics")).text
    assert 'andon_hub_open_calls{call_type="help",line="line2"} 1.0' in text
    assert 'andon_hub_open_calls{call_type="maintenance",line="line1"}' not in text
    for step in ("acknowledge", "arrive", "resolve"):
        labels = {"call_type": "maintenance", "line": "line1", "step": step}
        assert _sample(text, "andon_hub_call_response_seconds_count", labels) == 1
        # Forty seconds after the press, not yet sixty.
        assert (
            _sample(text, "andon_hub_call_response_seconds_bucket", {**labels, "le": "30.0"}) == 0
        )
        assert (
            _sample(text, "andon_hub_call_response_seconds_bucket", {**labels, "le": "60.0"}) == 1
        )
    assert "andon_hub_ingest_lag_seconds_count 2.0" in text


def _sample(text: str, name: str, labels: dict[str, str]) -> float:
    """The value of the sample ``name{labels}`` in Prometheus text, whatever the label order."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    raise AssertionError(f"no sample {name}{labels}")
