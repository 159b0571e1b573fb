"""A badge scanned at a station marks the station's oldest open call arrived, named after
the person whose badge it is (``auth.badges``: badge number -> account); a badge nobody
holds, or an account that is disabled, marks nothing and is written to the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select

from contract.wire import ArrivalEvent, ArrivalPayload, make_event_id, utc_now
from hub.access.accounts import AccountStore
from hub.access.permissions import Role
from hub.calls.station_events import IngestOutcome
from hub.config.file import load_hub_config
from hub.db.tables import audit_log, call_events
from hub.process.app import create_app
from tests.helpers.hub import SITE, HubUnderTest, hub_settings
from tests.helpers.plant import write_yaml


@pytest_asyncio.fixture
async def hub(tmp_path: Path, database_url: str) -> AsyncIterator[HubUnderTest]:
    settings = hub_settings(database_url)
    settings["people"] = [{"id": "li", "name": "Li Wei", "notify": ["json://127.0.0.1:9/"]}]
    settings["auth"] = {"badges": {"0042": "li-wei", "0077": "chen", "0099": "gone"}}
    config_path = write_yaml(tmp_path / "hub.yaml", settings)
    app = create_app(load_hub_config(config_path), config_path=config_path)
    async with app.router.lifespan_context(app):
        yield HubUnderTest(app, config_path)


def _scan(hub: HubUnderTest, badge: str, station: str = "st10") -> tuple[str, bytes]:
    hub.seq += 1
    event = ArrivalEvent(
        event_id=make_event_id("edge-test", hub.seq), edge_id="edge-test", seq=hub.seq,
        ts=utc_now(), kind="arrival", site=SITE, area="assembly", line="line1",
        station=station, payload=ArrivalPayload(badge=badge),
    )  # fmt: skip
    topic = hub.ingest.topics.event(SITE, "assembly", "line1", station)
    return topic, event.model_dump_json().encode()


@pytest.mark.asyncio
async def test_a_badge_marks_the_oldest_open_call_arrived_by_its_person(hub: HubUnderTest) -> None:
    accounts = AccountStore(hub.store)
    for name, person in (("li-wei", "li"), ("chen", None), ("gone", None)):
        accounts.create(
            name=name, role=Role.RESPONDER, lines=[], person=person,
            password="a password long enough", actor="test", now=utc_now(),
        )  # fmt: skip
    accounts.disable("gone", actor="test", now=utc_now())
    oldest = hub.raise_call("st10", "maintenance")
    newer = hub.raise_call("st10", "quality")
    other_station = hub.raise_call("st20", "maintenance")

    outcomes = hub.ingest_presses(
        _scan(hub, "0042"),  # Li Wei's: the oldest call of st10
        _scan(hub, "1234"),  # nobody's
        _scan(hub, "0099"),  # a disabled account's
        _scan(hub, "0077"),  # Chen's (no people: entry): the next call of st10
    )
    assert outcomes == [
        IngestOutcome.ARRIVED, IngestOutcome.UNKNOWN_BADGE, IngestOutcome.UNKNOWN_BADGE,
        IngestOutcome.ARRIVED,
    ]  # fmt: skip
    calls = {call.id: call for call in hub.store_calls()}
    assert (calls[oldest].state, calls[oldest].acknowledged_by) == ("arrived", "li")
    assert (calls[newer].state, calls[newer].acknowledged_by) == ("arrived", "chen")
    assert calls[other_station].state == "raised"
    with hub.store.read() as conn:
        arrivals = conn.execute(
            select(call_events.c.call_id, call_events.c.actor, call_events.c.source)
            .where(call_events.c.action == "arrived")
            .order_by(call_events.c.id)
        ).all()
        unknown = conn.execute(
            select(audit_log.c.target).where(audit_log.c.action == "badge.unknown")
        ).all()
    assert [tuple(row) for row in arrivals] == [(oldest, "li", "badge"), (newer, "chen", "badge")]
    assert sorted(row.target for row in unknown) == ["badge:0099", "badge:1234"]
