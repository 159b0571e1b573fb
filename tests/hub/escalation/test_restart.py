"""The hub killed with SIGKILL in the middle of a policy, and started again.

Every part is real: Mosquitto, ``andon hub`` as a child process, its database (both
backends), and a local HTTP receiver for the phones. Every notification that was due
is received once, none twice, and none that stopped being due while the hub was down.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from contract.netutil import free_port
from contract.wire import CallPayload, Event, Topics, make_event_id, utc_now
from hub.calls.lifecycle import Actor, Source
from hub.calls.records import CallFilter
from hub.calls.repository import Store
from hub.db.engine import open_engine
from hub.db.tables import notifications
from testbed.broker import MosquittoBroker
from tests.helpers.escalation import escalation_settings
from tests.helpers.plant import HUB_START_S, AndonProcess, write_yaml
from tests.helpers.receiver import Receiver
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.system

LEVELS = [
    {"after_s": 0, "notify": ["person:li-wei"]},
    {"after_s": 4, "notify": ["person:zhang-min"]},
    {"after_s": 10, "notify": ["person:boss"]},
]


def _publish(broker: MosquittoBroker, topics: Topics, seq: int, station: str) -> None:
    event = Event(
        event_id=make_event_id("edge-line1", seq), edge_id="edge-line1", seq=seq,
        ts=utc_now(), kind="call", site="plant1", area="assembly", line="line1",
        station=station, payload=CallPayload(call_type="maintenance"),
    )  # fmt: skip
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"press-{seq}")
    client.connect(broker.host, broker.port)
    client.loop_start()
    topic = topics.event("plant1", "assembly", "line1", station)
    client.publish(topic, event.model_dump_json(), qos=1).wait_for_publish(timeout=5)
    client.loop_stop()
    client.disconnect()


def _statuses(store: Store) -> list[str]:
    with store.read() as conn:
        return [
            str(s)
            for s in conn.execute(
                select(notifications.c.status).order_by(notifications.c.id)
            ).scalars()
        ]


def test_hub_killed_mid_policy_sends_what_was_due_once_and_nothing_that_stopped_being_due(
    tmp_path: Path,
    broker: MosquittoBroker,
    topic_prefix: str,
    database_url: str,
    receiver: Receiver,
) -> None:
    port = free_port()
    settings = escalation_settings(database_url, receiver, levels=LEVELS)
    settings["broker"] = {"host": broker.host, "port": broker.port, "topic_prefix": topic_prefix}
    settings["api"] = {"host": "127.0.0.1", "port": port}
    config = write_yaml(tmp_path / "hub.yaml", settings)
    hub = AndonProcess("hub", config, tmp_path / "hub.log")
    store = Store(open_engine(database_url))
    healthy = lambda: httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200  # noqa: E731
    try:
        hub.start()
        wait_until(healthy, timeout=HUB_START_S, what="hub up")
        _publish(broker, Topics(topic_prefix), 1, "st10")  # call A: escalates on
        _publish(broker, Topics(topic_prefix), 2, "st20")  # call B: resolved while down
        wait_until(lambda: len(receiver.on("/li-wei")) == 2, what="both level-0 messages")
        # Their outcomes recorded: a kill between send and record is the next test's case.
        wait_until(lambda: _statuses(store) == ["sent", "sent"], what="outcomes recorded")
        hub.stop(signal.SIGKILL)
        calls = {c.station: c for c in store.list_calls(CallFilter())}
        a, b = calls["st10"], calls["st20"]
        store.transition(b.id, "resolve", utc_now(), actor=Actor("li-wei", Source.API))
        assert a.received_at is not None
        # Stay down past level 1 of call A (due 4 s after it was raised).
        while utc_now() < a.received_at + timedelta(seconds=5):
            time.sleep(0.1)
        assert receiver.on("/zhang-min") == []
        hub.start()
        wait_until(lambda: len(receiver.on("/boss")) >= 1, timeout=30, what="level 2 of A")
        # Every outcome recorded: no send is left in flight to arrive twice.
        wait_until(lambda: _statuses(store) == ["sent"] * 4, what="every outcome recorded")
    finally:
        hub.stop()
        store.engine.dispose()
    bodies = [(r.json()["call_id"], r.json()["level"]) for r in receiver.received]
    assert sorted(bodies) == sorted([(a.id, 0), (b.id, 0), (a.id, 1), (a.id, 2)])
    keys = Counter(r.headers["Idempotency-Key"] for r in receiver.received)
    assert max(keys.values()) == 1, keys
    late = receiver.on("/zhang-min")[0]
    assert late.at >= (a.received_at + timedelta(seconds=4)).timestamp()


def test_a_send_cut_off_by_a_kill_is_resolved_on_restart_with_the_same_idempotency_key(
    tmp_path: Path,
    broker: MosquittoBroker,
    topic_prefix: str,
    database_url: str,
    receiver: Receiver,
) -> None:
    port = free_port()
    settings = escalation_settings(database_url, receiver, levels=LEVELS[:1])
    settings["broker"] = {"host": broker.host, "port": broker.port, "topic_prefix": topic_prefix}
    settings["api"] = {"host": "127.0.0.1", "port": port}
    config = write_yaml(tmp_path / "hub.yaml", settings)
    hub = AndonProcess("hub", config, tmp_path / "hub.log")
    store = Store(open_engine(database_url))
    healthy = lambda: httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200  # noqa: E731
    receiver.hold("/li-wei", 8.0)  # the phone gets it; the hub dies before hearing back
    try:
        hub.start()
        wait_until(healthy, timeout=HUB_START_S, what="hub up")
        _publish(broker, Topics(topic_prefix), 1, "st10")
        wait_until(lambda: receiver.on("/li-wei"), what="the first attempt")
        hub.stop(signal.SIGKILL)
        assert _statuses(store) == ["sending"]  # the intent, without its outcome
        hub.start()
        wait_until(lambda: len(receiver.on("/li-wei")) == 2, timeout=30, what="the retry")
        wait_until(lambda: _statuses(store) == ["unknown", "sent"], what="both recorded")
        with store.read() as conn:
            note = conn.execute(
                select(notifications.c.error).where(notifications.c.attempt == 1)
            ).scalar_one()
    finally:
        hub.stop()
        store.engine.dispose()
    first, second = receiver.on("/li-wei")
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert "sent again with the same idempotency key" in note
