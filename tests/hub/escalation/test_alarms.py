"""Alarm hygiene: SPC anomalies grouped per characteristic, inhibited on a line down, and
an edge that goes offline raising its own call. Both database backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contract.wire import AnomalyEvent, AnomalyPayload, make_event_id, utc_now
from hub.calls.lifecycle import CallState
from tests.helpers.escalation import (
    announce,
    attempts,
    escalation_settings,
    pass_at,
    received,
    running_hub,
)
from tests.helpers.hub import SITE, HubUnderTest
from tests.helpers.plant import write_yaml
from tests.helpers.receiver import Receiver
from tests.helpers.waiting import until

pytestmark = pytest.mark.asyncio


def anomaly(hub: HubUnderTest, *, line: str = "line1", station: str = "st10") -> tuple[str, bytes]:
    hub.seq += 1
    event = AnomalyEvent(
        event_id=make_event_id("edge-test", hub.seq), edge_id="edge-test", seq=hub.seq,
        ts=utc_now(), kind="anomaly", site=SITE, area="assembly", line=line, station=station,
        payload=AnomalyPayload(
            characteristic="diameter", chart="xbar", measurement="diameter_mm", tests=[1],
            value=10.4, center=10.0, lcl=9.8, ucl=10.2, subgroup=hub.seq,
        ),
    )  # fmt: skip
    topic = hub.ingest.topics.event(SITE, "assembly", line, station)
    return topic, event.model_dump_json().encode()


async def test_spc_anomalies_of_one_characteristic_are_one_notification_per_interval(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    # The interval runs from the pass that sent the first message, not from its arrival:
    # 3 s, so that a first message slow to arrive on a loaded machine (once over 0.7 s in
    # CI with 1 s) still leaves the next ones inside it.
    settings = escalation_settings(database_url, receiver, anomaly_interval_s=3)
    async with running_hub(write_yaml(tmp_path / "hub.yaml", settings)) as hub:
        announce(hub, *[anomaly(hub) for _ in range(5)])
        (first,) = await received(receiver, 1)
        announce(hub, *[anomaly(hub) for _ in range(3)])
        # Held within the interval: a pass at the moment the first arrived sends nothing.
        assert await pass_at(hub, datetime.fromtimestamp(first.at, UTC)) == []
        assert len(receiver.received) == 1
        got = await received(receiver, 2)
        # Nothing is left: a pass two intervals on has nothing to send.
        assert await pass_at(hub, utc_now() + timedelta(seconds=6)) == []
        assert len(attempts(hub.store)) == 2
    assert len(receiver.received) == 2
    assert [m.path for m in got] == ["/zhang-min", "/zhang-min"]  # the quality policy
    assert first.json()["kind"] == "alarm"
    assert first.json()["text"].startswith("5 out-of-control point(s) of diameter (test 1)")
    assert got[1].json()["text"].startswith("3 out-of-control point(s)")


async def test_an_open_line_down_call_inhibits_the_spc_alarms_of_its_line(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    settings = escalation_settings(database_url, receiver, anomaly_interval_s=1)
    async with running_hub(write_yaml(tmp_path / "hub.yaml", settings)) as hub:
        announce(hub, hub.press("st10", "breakdown"))  # line1 is down (no policy: no page)
        announce(hub, anomaly(hub, line="line1", station="st10"))
        announce(hub, anomaly(hub, line="line2", station="st30"))
        (message,) = await received(receiver, 1)
        # Line 1's alarm is not merely late: a pass intervals on has nothing to send.
        assert await pass_at(hub, utc_now() + timedelta(seconds=3)) == []
        assert len(attempts(hub.store)) == 1  # none queued for line 1 either
    assert message.json()["line"] == "line2"
    assert len(receiver.received) == 1


async def test_an_edge_that_goes_offline_raises_its_own_call_resolved_when_it_is_back(
    esc_hub: HubUnderTest, receiver: Receiver
) -> None:
    topic = esc_hub.ingest.topics.edge_status(SITE, "edge-line1")
    announce(esc_hub, (topic, b"offline"))
    (message,) = await received(receiver, 1)
    assert (message.path, message.json()["call_type"]) == ("/boss", "edge offline")
    (call,) = esc_hub.store_calls()
    assert (call.area, call.line, call.station, call.state) == (
        "system", "edges", "edge-line1", CallState.RAISED,
    )  # fmt: skip
    announce(esc_hub, (topic, b"offline"))  # said again: still one call
    assert len(esc_hub.store_calls()) == 1
    announce(esc_hub, (topic, b"online"))
    await until(lambda: esc_hub.store_calls()[0].state is CallState.RESOLVED, what="resolved")
