"""A bad value is refused at the door, never in the database (SQLite and PostgreSQL).

Found in a run: an anomaly with ``"value": NaN`` passed validation and failed SQLite's
NOT NULL; the hub took it for an outage, reconnected, retried the same batch nine times
and lost the message. Now every kind with a NaN, an infinity, a NUL, 10,000 items or
10^30 in a field is refused by ingest and named to its edge; and a message the database
refuses all the same (here a trigger, as a check an administrator added) is set aside
alone, kept with the reason, while the rest of its batch is applied.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from hub.access.permissions import Role
from hub.calls.station_events import IngestOutcome
from hub.db.tables import anomalies, calls, processed_events, spc_points
from hub.edges.dead_letters import list_dead_letters
from hub.edges.ingest import Rejection
from hub.edges.ingest_worker import IngestFailed, IngestWorker
from hub.measurements.intake import MeasurementCheck
from hub.measurements.repository import MeasurementStore
from hub.measurements.subscription import MeasurementSubscriber
from tests.helpers.hub import HubUnderTest
from tests.helpers.refusals import (
    EDGE,
    POISON,
    anomaly_payload,
    bad_messages,
    measurement_payload,
    refuse_poison,
    station_event,
)

pytestmark = pytest.mark.asyncio


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _seqs(ranges: list[tuple[int, int]]) -> set[int]:
    return {seq for first, last in ranges for seq in range(first, last + 1)}


def _message(hub: HubUnderTest, seq: int, **fields: Any) -> tuple[str, bytes]:
    """A station event of ``EDGE`` numbered ``seq`` (station st10 unless given)."""
    station = fields.pop("station", "st10")
    event = station_event(seq, **fields) | {"station": station}
    return hub.ingest.topics.event("plant1", "assembly", "line1", station), json.dumps(
        event
    ).encode()


async def test_every_broken_field_of_every_kind_is_refused_and_named_to_its_edge(
    hub: HubUnderTest,
) -> None:
    config = hub.app.state.config.current
    messages = bad_messages(config.broker.topic_prefix)
    events = [m for m in messages if not m.measurement]
    report = hub.ingest.handle_batch([(m.topic, m.payload) for m in events])
    refused = {m.what: r for m, r in zip(events, report.results, strict=True)}
    assert all(r in (Rejection.INVALID, Rejection.TOO_LARGE) for r in refused.values()), refused
    confirmed, rejected = report.acks[EDGE]
    assert confirmed == []
    assert _seqs(rejected) == {m.seq for m in events if m.seq is not None}
    for table in (processed_events, anomalies, calls):
        assert _count(hub.store.engine, table) == 0
    check = MeasurementCheck(lambda: config)
    measurements = [m for m in messages if m.measurement]
    outcomes = {m.what: check(m.topic, m.payload) for m in measurements}
    assert all(isinstance(r, Rejection) for r in outcomes.values()), outcomes


async def test_ten_to_the_thirty_in_a_float_field_is_a_number_like_any_other(
    hub: HubUnderTest,
) -> None:
    payload = anomaly_payload() | {"value": 1e30, "ucl": 1e30}
    (result,) = hub.ingest_presses(_message(hub, 1, kind="anomaly", payload=payload))
    assert result is IngestOutcome.ANOMALY
    with hub.store.engine.connect() as conn:
        assert conn.execute(select(anomalies.c.value, anomalies.c.ucl)).one() == (1e30, 1e30)


async def test_a_message_the_database_refuses_is_set_aside_and_the_rest_of_its_batch_applied(
    hub: HubUnderTest,
) -> None:
    refuse_poison(hub.store.engine, "anomalies")
    poisoned = _message(hub, 2, kind="anomaly", payload=anomaly_payload(POISON))
    batch = [
        _message(hub, 1, kind="call", payload={"call_type": "maintenance"}),
        poisoned,
        _message(hub, 3, kind="call", payload={"call_type": "maintenance"}, station="st20"),
        _message(hub, 4, kind="anomaly", payload=anomaly_payload()),
    ]
    worker = IngestWorker(hub.app.state.config.current)  # the hub's own ingest process
    try:
        report = await asyncio.to_thread(worker.apply, batch)
    finally:
        await asyncio.to_thread(worker.stop)
    assert report.results == [
        IngestOutcome.NEW_CALL, Rejection.SET_ASIDE, IngestOutcome.NEW_CALL,
        IngestOutcome.ANOMALY,
    ]  # fmt: skip
    confirmed, rejected = report.acks[EDGE]
    assert (_seqs(confirmed), _seqs(rejected)) == ({1, 3, 4}, {2})
    assert _count(hub.store.engine, calls) == 2
    (letter,) = list_dead_letters(hub.store.engine, after=None, limit=10)
    assert (letter["edge_id"], letter["seq"], letter["reason"]) == (EDGE, 2, "set_aside")
    assert "refused by a check" in letter["detail"]
    assert base64.b64decode(letter["payload_base64"]) == poisoned[1]
    async with hub.client(Role.ADMIN) as client:
        page = (await client.get("/api/dead-letters")).json()
    assert [(d["seq"], d["path"], d["topic"]) for d in page["letters"]] == [
        (2, "event", poisoned[0])
    ]


async def test_a_measurement_the_database_refuses_is_set_aside_and_the_others_stored(
    hub: HubUnderTest,
) -> None:
    refuse_poison(hub.store.engine, "spc_points")
    config = hub.app.state.config.current
    topic = hub.ingest.topics.measurement("plant1", EDGE)

    def message(seq: int, characteristic: str) -> tuple[str, bytes]:
        body = station_event(seq, "measurement", measurement_payload(characteristic))
        del body["station"]
        return topic, json.dumps(body).encode()

    subscriber = MeasurementSubscriber(config=lambda: config, store=MeasurementStore(hub.store))
    stored = await asyncio.to_thread(
        subscriber.write, [message(1, "bore"), message(2, POISON), message(3, "bore")]
    )
    assert [event.seq for event, _ in stored] == [1, 3]
    assert subscriber.tally.outcomes["set_aside"] == 1
    assert subscriber.tally.rejected["set_aside"] == 1
    assert _count(hub.store.engine, spc_points) == 2
    (letter,) = list_dead_letters(hub.store.engine, after=None, limit=10)
    assert (letter["path"], letter["seq"], letter["reason"]) == ("measurement", 2, "set_aside")


async def test_a_locked_database_is_an_outage_and_sets_nothing_aside(hub: HubUnderTest) -> None:
    engine = hub.store.engine
    batch = [_message(hub, 1, kind="call", payload={"call_type": "maintenance"})]
    worker = IngestWorker(hub.app.state.config.current)
    try:
        # Another writer holds the lock past the hub's lock timeout (SQLite: the write
        # lock, taken at BEGIN; PostgreSQL: the table ingest reads first).
        with engine.connect().execution_options(writes=True) as holder, holder.begin():
            if engine.dialect.name == "postgresql":
                holder.execute(text("LOCK TABLE processed_events IN ACCESS EXCLUSIVE MODE"))
            with pytest.raises(IngestFailed, match="OperationalError"):
                await asyncio.to_thread(worker.apply, batch)
        report = await asyncio.to_thread(worker.apply, batch)
    finally:
        await asyncio.to_thread(worker.stop)
    assert report.results == [IngestOutcome.NEW_CALL]
    assert list_dead_letters(engine, after=None, limit=10) == []
