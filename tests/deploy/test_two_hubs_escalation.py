"""Two ``andon hub`` processes on one PostgreSQL, sharing the site's messages and the
escalation loop, with one SIGKILLed while calls come in: every call is stored once and
its level-0 notification reaches the responder's phone once.

The phone is a local HTTP receiver behind the hub's signed webhook, which carries the
message's idempotency key. A hub killed between a send and its record leaves the attempt
``sending``; once its lease has run out the survivor marks it ``unknown`` and sends it
again with the same key, so a phone may see that one message twice, and never another."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from contract.netutil import free_port
from contract.wire import CallPayload, Event, Topics, event_json, make_event_id, utc_now
from testbed.broker import MosquittoBroker
from tests.helpers.deploy import SITE, publish, query, subscribed
from tests.helpers.plant import AndonProcess, write_yaml
from tests.helpers.receiver import Receiver
from tests.helpers.waiting import wait_until

STATIONS = [f"st{n:02d}" for n in range(1, 61)]  # one press each: a call each
LINE = "line1"


def hub_file(path: Path, *, broker: MosquittoBroker, url: str, prefix: str, phone: str) -> Path:
    return write_yaml(
        path,
        {
            "site": SITE,
            "client_id": path.stem,
            "shared_group": "hubs",
            "broker": {"host": broker.host, "port": broker.port, "topic_prefix": prefix},
            "storage": {"url": url},
            "api": {"port": free_port()},
            "call_types": ["maintenance"],
            "reason_codes": ["adjusted"],
            "areas": [
                {
                    "id": "assembly",
                    "lines": [{"id": LINE, "stations": [{"id": s} for s in STATIONS]}],
                }
            ],
            "people": [{"id": "li-wei", "name": "Li Wei", "notify": [phone]}],
            "escalation": {
                "policies": [
                    {
                        "id": "maintenance-calls",
                        "ack_timeout_s": 3600,
                        # Level 1 lies beyond the test: every message received is level 0.
                        "levels": [
                            {"after_s": 0, "notify": ["person:li-wei"]},
                            {"after_s": 3600, "notify": ["person:li-wei"]},
                        ],
                    }
                ],
                "retry": {"initial_s": 0.2, "cap_s": 1.0, "attempts": 5},
                # A short lease: the survivor takes over a killed hub's attempt soon.
                "send_timeout_s": 2,
            },
        },
    )


def presses(prefix: str, stations: list[str], first_seq: int) -> list[tuple[str, str]]:
    topics = Topics(prefix)
    messages = []
    for seq, station in enumerate(stations, start=first_seq):
        event = Event(
            event_id=make_event_id("edge-sim", seq), edge_id="edge-sim", seq=seq, ts=utc_now(),
            kind="call", site=SITE, area="assembly", line=LINE, station=station,
            payload=CallPayload(call_type="maintenance"),
        )  # fmt: skip
        messages.append((topics.event(SITE, "assembly", LINE, station), event_json(event)))
    return messages


def calls(url: str) -> list[Any]:
    return query(url, "SELECT id, station, presses FROM calls")


def sent_level_zero(url: str) -> list[Any]:
    return query(url, "SELECT call_id, key FROM notifications WHERE level = 0 AND status = 'sent'")


def cut_off_keys(url: str) -> set[str]:
    """Messages with an attempt the hub was killed during (sent or not, nobody knows)."""
    return {row.key for row in query(url, "SELECT key FROM notifications WHERE status = 'unknown'")}


@pytest.mark.parametrize("killed", [0, 1], ids=["hub-a killed", "hub-b killed"])
def test_two_hubs_escalate_every_call_once_with_one_killed(
    tmp_path: Path, broker: MosquittoBroker, postgres_url: str, topic_prefix: str, killed: int
) -> None:
    with Receiver() as receiver:
        phone = f"andon+http://s3cret@{receiver.url}/li-wei"
        files = [
            hub_file(tmp_path / f"{name}.yaml", broker=broker, url=postgres_url,
                     prefix=topic_prefix, phone=phone)
            for name in ("hub-a", "hub-b")
        ]  # fmt: skip
        hubs = [AndonProcess("hub", path, tmp_path / f"{path.stem}.log") for path in files]
        for hub in hubs:
            hub.start()
        try:
            for hub in hubs:
                wait_until(lambda: subscribed(hub), timeout=60, what="subscribed")  # noqa: B023  # called at once
            half = len(STATIONS) // 2
            publish(broker, presses(topic_prefix, STATIONS[:half], 1))
            # Killed while it stores calls and sends their level 0, wherever it is.
            hubs[killed].stop(signal.SIGKILL)
            publish(broker, presses(topic_prefix, STATIONS[half:], half + 1))
            # The survivor stores and escalates its share while the other is down ...
            wait_until(lambda: len(calls(postgres_url)) > half, timeout=60, what="the survivor")
            # ... and the killed hub's share waits in its MQTT session until it is back.
            hubs[killed].start()
            wait_until(lambda: len(calls(postgres_url)) >= len(STATIONS), timeout=60, what="calls")
            wait_until(
                lambda: len(sent_level_zero(postgres_url)) >= len(STATIONS),
                timeout=60, what="every level 0 sent",
            )  # fmt: skip
            check_each_call_stored_and_told_once(postgres_url, receiver)
        finally:
            for hub in hubs:
                hub.stop()


def check_each_call_stored_and_told_once(url: str, receiver: Receiver) -> None:
    stored = calls(url)
    assert query(url, "SELECT count(*) FROM processed_events")[0][0] == len(STATIONS)
    assert sorted(row.station for row in stored) == STATIONS  # each station's call, once
    assert all(row.presses == 1 for row in stored)
    sent = sent_level_zero(url)
    assert sorted(row.call_id for row in sent) == sorted(row.id for row in stored)
    wait_until(lambda: len(receiver.on("/li-wei")) >= len(STATIONS), what="every message")
    got = receiver.on("/li-wei")
    assert {r.json()["level"] for r in got} == {0}
    by_call = Counter(int(r.json()["call_id"]) for r in got)
    assert set(by_call) == {row.id for row in stored}, "a call nobody was told about"
    keys = Counter(r.headers["Idempotency-Key"] for r in got)
    assert set(keys) == {row.key for row in sent}  # one message per call, its key throughout
    twice = {key for key, count in keys.items() if count > 1}
    assert twice <= cut_off_keys(url), f"received twice without a cut-off attempt: {twice}"
    assert max(keys.values()) <= 2  # a cut-off attempt is sent again once, not more
