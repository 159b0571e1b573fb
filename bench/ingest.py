"""Ingest benchmark: call events through a real Mosquitto into a real ``andon hub``.

Both sides drain the same stream from the broker, in the same run:

- the hub: a backlog of N call events (plus some redelivered duplicates) is queued in
  the hub's persistent session while it is stopped; then it starts and applies them,
  with persistence, deduplication and acknowledgement after commit. The rate is taken
  from the hub's own receipt times in its database; meanwhile a client reads
  ``GET /api/calls`` in a loop (``api_p99_ms``).
- a bare subscriber: the same N messages queued for it the same way, drained by an
  aiomqtt client doing nothing else (``raw_broker_per_s``), once before and once after
  the hub; the faster of the two counts.

Then a paced live stream gives ``p99_lag_ms``: the hub's receipt time minus the press
time each event carries. ``ratio`` is the hub's rate over the bare subscriber's.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import sqlalchemy
import yaml

from contract.mqtt import PahoClient, PublishInfo, paho_client, waiting_messages
from contract.netutil import free_port
from contract.processes import stop_process
from contract.wire import CallPayload, Event, Topics, make_event_id, utc_now
from hub.db.tables import OPEN_STATE_CONDITION
from hub.escalation.system_calls import SYSTEM_AREA

SITE = "bench"
LINES = 10
STATIONS_PER_LINE = 20
DUPLICATE_EVERY = 50  # one event in 50 is sent twice, as a broker redelivery would
READ_EVERY_S = 0.1  # the API reader: ten requests a second, a dozen boards and inboxes
ANDON = [sys.executable, "-m", "andon.cli"]


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    pid: int | None = None  # the broker's process, where the benchmark reads its CPU


def run_ingest_bench(
    *, broker: Broker, database_url: str, backend: str, events: int, workdir: Path
) -> dict[str, Any]:
    hub = _HubProcess(workdir, broker, database_url)
    try:
        hub.start()
        token = hub.token()
        hub.stop()  # its session stays at the broker and queues what follows
        messages = _call_events(events, first_seq=1)
        # The bare subscriber drains before and after the hub; its faster run counts, so
        # a busy moment of the machine cannot flatter the hub.
        raw_before = asyncio.run(_raw_rate(broker, messages))
        _publish(broker, [*messages, *messages[::DUPLICATE_EVERY]])
        latencies: list[float] = []
        stop_reading = threading.Event()
        reader = threading.Thread(
            target=_read_api, args=(hub.api_url, token, latencies, stop_reading), daemon=True
        )
        hub.start(wait=False)
        reader.start()
        hub_rate = hub.drain_rate(expected=events)
        stop_reading.set()
        reader.join()
        raw_rate = max(raw_before, asyncio.run(_raw_rate(broker, messages)))
        lag = _live_lag(broker, hub, count=min(2000, max(200, events // 10)), first_seq=events + 1)
        counts = hub.counts()
    finally:
        hub.stop()
    applied = events + len(lag)
    return {
        "backend": backend,
        "events": events,
        "events_per_s": round(hub_rate, 1),
        "raw_broker_per_s": round(raw_rate, 1),
        "ratio": round(hub_rate / raw_rate, 3),
        "lost": applied - counts["processed"],
        # An event applied twice shows as a press too many, or as a second open call.
        "duplicates": counts["presses"] - counts["processed"] + counts["doubled"],
        "p99_lag_ms": round(_p99(lag) * 1000, 1),
        "api_p99_ms": round(_p99(latencies) * 1000, 1),
    }


def _p99(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def _stations() -> list[tuple[str, str]]:
    return [
        (f"line{line}", f"st{station}")
        for line in range(1, LINES + 1)
        for station in range(1, STATIONS_PER_LINE + 1)
    ]


def _event(seq: int, line: str, station: str) -> Event:
    return Event(
        event_id=make_event_id("bench-edge", seq),
        edge_id="bench-edge",
        seq=seq,
        ts=utc_now(),
        kind="call",
        site=SITE,
        area="area1",
        line=line,
        station=station,
        payload=CallPayload(call_type="maintenance"),
    )


def _lines() -> list[dict[str, Any]]:
    stations = [{"id": f"st{s}"} for s in range(1, STATIONS_PER_LINE + 1)]
    return [{"id": f"line{line}", "stations": stations} for line in range(1, LINES + 1)]


def _call_events(count: int, *, first_seq: int) -> list[tuple[str, bytes]]:
    """``count`` presses spread over every station of the bench plant, in order."""
    topics = Topics("andon")
    stations = _stations()
    messages = []
    for seq in range(first_seq, first_seq + count):
        line, station = stations[seq % len(stations)]
        body = _event(seq, line, station).model_dump_json().encode()
        messages.append((topics.event(SITE, "area1", line, station), body))
    return messages


def _publisher(broker: Broker) -> PahoClient:
    client = paho_client(f"bench-pub-{os.getpid()}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(broker.host, broker.port)
    client.loop_start()
    return client


def _finish(client: PahoClient, infos: list[PublishInfo]) -> None:
    for info in infos:
        info.wait_for_publish(timeout=60)
    client.loop_stop()
    client.disconnect()


def _publish(broker: Broker, messages: list[tuple[str, bytes]]) -> None:
    """Publish with QoS 1, as fast as the broker takes them, and wait for every PUBACK."""
    client = _publisher(broker)
    _finish(client, [client.publish(topic, body, qos=1) for topic, body in messages])


async def _raw_rate(broker: Broker, messages: list[tuple[str, bytes]]) -> float:
    """Messages per second a bare subscriber drains from its queued session."""
    prefix = f"raw{os.getpid()}"
    identifier = f"bench-raw-{os.getpid()}"

    def client() -> aiomqtt.Client:
        return aiomqtt.Client(broker.host, broker.port, identifier=identifier, clean_session=False)

    async with client() as subscriber:
        await subscriber.subscribe(f"{prefix}/#", qos=1)
    await asyncio.to_thread(
        _publish, broker, [(f"{prefix}/{topic}", body) for topic, body in messages]
    )
    async with client() as subscriber:
        received = 0
        first = 0.0
        async for _message in subscriber.messages:
            if received == 0:
                first = time.perf_counter()
            # Take what is already queued without a task per message, as the hub does.
            received += 1 + len(waiting_messages(subscriber, len(messages)))
            if received >= len(messages):
                return (received - 1) / (time.perf_counter() - first)
    raise RuntimeError("the bare subscriber stopped early")


def _live_lag(broker: Broker, hub: _HubProcess, *, count: int, first_seq: int) -> list[float]:
    """Receipt minus press time, in seconds, for a stream paced at 1000 events/s.

    Each event is made just before it is sent, so its press time is its send time."""
    pressed: dict[str, datetime] = {}
    topics = Topics("andon")
    stations = _stations()
    client = _publisher(broker)
    started = time.perf_counter()
    infos = []
    for index, seq in enumerate(range(first_seq, first_seq + count)):
        time.sleep(max(0.0, started + index / 1000 - time.perf_counter()))
        line, station = stations[seq % len(stations)]
        topic = topics.event(SITE, "area1", line, station)
        body = _event(seq, line, station)
        pressed[body.event_id] = body.ts
        infos.append(client.publish(topic, body.model_dump_json().encode(), qos=1))
    _finish(client, infos)
    received = hub.receipts(list(pressed))
    return [(received[i] - pressed[i]).total_seconds() for i in pressed if i in received]


def _read_api(url: str, token: str, latencies: list[float], stop: threading.Event) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                client.get("/api/calls", params={"limit": "100", "order": "desc"})
                time.sleep(READ_EVERY_S)
            except httpx.HTTPError:
                time.sleep(0.05)  # the hub is still starting
                continue
            latencies.append(time.perf_counter() - started)


class _HubProcess:
    """``andon hub`` for the bench plant, and reads of its database."""

    def __init__(self, workdir: Path, broker: Broker, database_url: str) -> None:
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}"
        self.config = workdir / "hub.yaml"
        self.log = workdir / "hub.log"
        self.engine = sqlalchemy.create_engine(database_url)
        settings = {
            "site": SITE,
            "client_id": f"bench-hub-{os.getpid()}",
            "broker": {"host": broker.host, "port": broker.port},
            "storage": {"url": database_url},
            "api": {"host": "127.0.0.1", "port": self.port},
            "call_types": ["maintenance"],
            "reason_codes": ["fixed"],
            "areas": [{"id": "area1", "lines": _lines()}],
        }
        self.config.write_text(yaml.safe_dump(settings))
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, *, wait: bool = True) -> None:
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [*ANDON, "hub", "--config", str(self.config)], stdout=log, stderr=log
            )
        if wait:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{self.api_url}/healthz", timeout=1).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            raise RuntimeError(f"the hub did not start; see {self.log}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            stop_process(process, timeout_s=30)

    def token(self) -> str:
        done = subprocess.run(
            [*ANDON, "token", "create", "--config", str(self.config), "--name",
             f"bench-{os.getpid()}", "--role", "viewer"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout.strip().splitlines()[-1]

    def drain_rate(self, *, expected: int, timeout_s: float = 600) -> float:
        """Events per second between the first and the last receipt of the backlog."""
        deadline = time.monotonic() + timeout_s
        while self.counts()["processed"] < expected:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the hub applied {self.counts()} of {expected} events")
            time.sleep(0.05)
        with self.engine.connect() as conn:
            first, last = conn.exec_driver_sql(
                "SELECT MIN(received_at), MAX(received_at) FROM processed_events"
            ).one()
        seconds = (_time(last) - _time(first)).total_seconds()
        return (expected - 1) / seconds if seconds > 0 else float("inf")

    def counts(self) -> dict[str, int]:
        """Events the hub recorded, presses its calls count, and calls opened twice.

        The hub's own calls (an edge that went offline, say) are no presses: left out."""
        not_system = {"system": SYSTEM_AREA}
        with self.engine.connect() as conn:
            processed = conn.exec_driver_sql("SELECT COUNT(*) FROM processed_events").scalar()
            presses = conn.execute(
                sqlalchemy.text(
                    "SELECT COALESCE(SUM(presses), 0) FROM calls WHERE area != :system"
                ),
                not_system,
            ).scalar()
            doubled = conn.execute(
                sqlalchemy.text(
                    "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM calls"
                    f" WHERE {OPEN_STATE_CONDITION} AND area != :system"
                    " GROUP BY line, station, call_type) AS open_calls"
                ),
                not_system,
            ).scalar()
        return {
            "processed": int(processed or 0),
            "presses": int(presses or 0),
            "doubled": int(doubled or 0),
        }

    def receipts(self, event_ids: list[str], timeout_s: float = 120) -> dict[str, datetime]:
        """When the hub received each event, once it has them all (or the time is up)."""
        query = sqlalchemy.text(
            "SELECT event_id, received_at FROM processed_events WHERE event_id IN :ids"
        ).bindparams(sqlalchemy.bindparam("ids", expanding=True))
        deadline = time.monotonic() + timeout_s
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(query, {"ids": event_ids}).all()
            if len(rows) == len(event_ids) or time.monotonic() > deadline:
                return {str(event_id): _time(at) for event_id, at in rows}
            time.sleep(0.1)


def _time(value: object) -> datetime:
    """A receipt time as the database returns it: text on SQLite, a datetime elsewhere."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(UTC)
