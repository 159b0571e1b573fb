"""Bad values through a real Mosquitto into a real hub, on SQLite and PostgreSQL.

Found in a run: an anomaly with ``"value": NaN`` failed SQLite's NOT NULL; the hub took
it for a database outage, dropped and re-made its MQTT session, looped on the batch and
delayed a good call behind it, and the message vanished uncounted. Here every kind with
a bad field is refused and rejected to its edge, a message the database refuses all the
same is set aside (kept, counted, rejected), a good call sent right behind is stored and
confirmed, and the hub's MQTT session stays the one it started with.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import create_engine, select

from contract.netutil import free_port
from contract.wire import Topics
from hub.db.tables import calls
from testbed.broker import MosquittoBroker
from tests.helpers.plant import (
    AndonProcess,
    create_token,
    measurement_messages,
    wait_hub_healthy,
    write_yaml,
)
from tests.helpers.refusals import (
    AREA,
    EDGE,
    LINE,
    POISON,
    SITE,
    BadMessage,
    anomaly_payload,
    bad_messages,
    measurement_payload,
    refuse_poison,
    station_event,
)
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.system


def _hub_file(tmp_path: Path, broker: MosquittoBroker, prefix: str, url: str, port: int) -> Path:
    return write_yaml(
        tmp_path / "hub.yaml",
        {
            "site": SITE,
            "broker": {"host": broker.host, "port": broker.port, "topic_prefix": prefix},
            "storage": {"url": url},
            "api": {"host": "127.0.0.1", "port": port},
            "call_types": ["maintenance"],
            "reason_codes": ["adjusted"],
            "areas": [{"id": AREA, "lines": [{"id": LINE, "stations": [{"id": "st10"}]}]}],
        },
    )


def _metric(text: str, name: str) -> float:
    """A sample of the hub's /metrics by its full name and labels; 0 if absent."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


class _EdgeAcks:
    """The confirmations the hub sends to EDGE, as sets of seq."""

    def __init__(self) -> None:
        self.confirmed: set[int] = set()
        self.rejected: set[int] = set()
        self._lock = threading.Lock()

    def on_message(self, _client: object, _data: object, message: paho.MQTTMessage) -> None:
        body = json.loads(message.payload)
        with self._lock:
            for key, seqs in (("confirmed", self.confirmed), ("rejected", self.rejected)):
                seqs.update(s for first, last in body[key] for s in range(first, last + 1))


def _check_counts(api: httpx.Client, bad: list[BadMessage], sessions_before: float) -> None:
    """Every bad message counted as refused, the two set aside counted, no new session."""

    def counted() -> str:
        metrics = api.get("/metrics").text
        return metrics if measurement_messages(metrics, "set_aside") >= 1 else ""

    metrics = wait_until(counted, timeout=30, what="the measurement set aside")
    # The measurement path counts its refusals under the same reasons.
    refused = sum(
        _metric(metrics, f'andon_hub_messages_rejected_total{{reason="{reason}"}}')
        for reason in ("invalid", "too_large")
    )
    assert refused == len(bad)
    assert measurement_messages(metrics, "rejected") == len([m for m in bad if m.measurement])
    assert _metric(metrics, 'andon_hub_messages_rejected_total{reason="set_aside"}') == 2
    assert _metric(metrics, "andon_hub_broker_sessions_total") == sessions_before == 1


def test_bad_values_are_refused_or_set_aside_and_a_good_call_behind_them_goes_through(
    tmp_path: Path, broker: MosquittoBroker, topic_prefix: str, database_url: str
) -> None:
    port = free_port()
    config = _hub_file(tmp_path, broker, topic_prefix, database_url, port)
    hub = AndonProcess("hub", config, tmp_path / "hub.log")
    topics = Topics(topic_prefix)
    acks = _EdgeAcks()
    edge = paho.Client(CallbackAPIVersion.VERSION2, client_id=EDGE)
    edge.on_message = acks.on_message
    edge.connect(broker.host, broker.port)
    edge.subscribe(topics.edge_ack(SITE, EDGE), qos=1)
    edge.loop_start()
    engine = create_engine(database_url)
    try:
        hub.start()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as api:
            wait_hub_healthy(api)
            refuse_poison(engine, "anomalies")
            refuse_poison(engine, "spc_points")
            admin = create_token(config, "admin-1", "admin")
            sessions_before = _metric(api.get("/metrics").text, "andon_hub_broker_sessions_total")
            bad = bad_messages(topic_prefix)
            seq = len(bad) + 1
            station = topics.event(SITE, AREA, LINE, "st10")
            poisoned = station_event(seq, "anomaly", anomaly_payload(POISON))
            measurement = station_event(seq + 1, "measurement", measurement_payload(POISON))
            del measurement["station"]
            good = station_event(seq + 2, "call", {"call_type": "maintenance"})
            published = [
                *((m.topic, m.payload) for m in bad),
                (station, json.dumps(poisoned).encode()),
                (topics.measurement(SITE, EDGE), json.dumps(measurement).encode()),
                (station, json.dumps(good).encode()),
            ]
            for topic, payload in published:
                edge.publish(topic, payload, qos=1).wait_for_publish(5)
            named = {m.seq for m in bad if m.seq is not None and not m.measurement}
            wait_until(
                lambda: seq + 2 in acks.confirmed and named | {seq} <= acks.rejected,
                timeout=30,
                what="the good call confirmed, the bad events and the set-aside one rejected",
            )
            with engine.connect() as conn:
                assert conn.execute(select(calls.c.first_event_id)).scalars().all() == [
                    good["event_id"]
                ]
            assert not acks.confirmed & (named | {seq})

            _check_counts(api, bad, sessions_before)
            letters = api.get(
                "/api/dead-letters", headers={"Authorization": f"Bearer {admin}"}
            ).json()["letters"]
            assert sorted((d["path"], d["seq"]) for d in letters) == [
                ("event", seq),
                ("measurement", seq + 1),
            ]
        log = hub.log()
        assert "reconnecting" not in log, log[-2000:]
        assert "store failed" not in log, log[-2000:]
    finally:
        edge.loop_stop()
        edge.disconnect()
        hub.stop()
        engine.dispose()
