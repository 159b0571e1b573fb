"""Escalation benchmark: presses through a real Mosquitto into a real ``andon hub``, and
its messages into a local HTTP receiver standing in for the phones.

- ``raise_to_first_notification_ms``: the press published -> the receiver has level 0
  (one press per station of 5 lines of 10, 0.1 s apart, after one warm-up press).
- ``level_lateness_ms``: receipt minus due time (the call's escalation base plus the
  level's ``after_s``) for the timed levels.
- ``missed`` / ``duplicated``: messages expected but never received, and messages
  received more than once (same idempotency key).
- ``tick_ms_at_1000_open_calls``: the engine's pass with 1,000 open calls under
  escalation and nothing due (what it pays every tick), measured in-process;
  ``tick_ms_1000_due`` is the passes (one batch of due steps each, back to back)
  that take all 1,000 steps falling due at once.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy
import yaml

from contract.mqtt import paho_client
from contract.netutil import free_port
from contract.processes import stop_process
from contract.wire import CallPayload, Event, Topics, make_event_id, utc_now
from hub.calls.repository import Store
from hub.config.file import HubConfig
from hub.db.engine import open_engine, upgrade
from hub.escalation.engine import EscalationEngine
from hub.escalation.snapshot import snapshots_from

SITE = "bench"
LINES = 5
STATIONS_PER_LINE = 10
LEVELS = [0, 2, 4]  # after_s of the three levels
PRESS_EVERY_S = 0.1
ANDON = [sys.executable, "-m", "andon.cli"]
SECRET = "bench-secret"  # noqa: S105 (a throwaway key for the local receiver)
# One press before the measured ones, not counted: it pays for what a hub does once
# (its ingest worker's and its engine's first statements), not for each call.
WARM_UP = "warmup"


@dataclass(frozen=True)
class Broker:
    host: str
    port: int


class _Receiver:
    """Records (path, idempotency key, body, receipt time) of every POST."""

    def __init__(self) -> None:
        self.port = free_port()
        self.got: list[tuple[str, str, dict[str, Any], float]] = []
        lock = threading.Lock()
        got = self.got

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                at = time.time()
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    got.append((self.path, self.headers["Idempotency-Key"], body, at))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def hook(self, path: str) -> str:
        return f"andon+http://{SECRET}@127.0.0.1:{self.port}/{path}"


def _stations(calls: int) -> list[tuple[str, str]]:
    """One station per call, ``STATIONS_PER_LINE`` to a line."""
    return [(f"line{n // STATIONS_PER_LINE + 1}", f"st{n:03d}") for n in range(calls)]


def _settings(
    broker: Broker, database_url: str, port: int, receiver: _Receiver, calls: int
) -> dict[str, Any]:
    lines: dict[str, list[dict[str, str]]] = {"line1": [{"id": WARM_UP}]}
    for line, station in _stations(calls):
        lines.setdefault(line, []).append({"id": station})
    people = [{"id": f"p{n}", "notify": [receiver.hook(f"p{n}")]} for n in range(len(LEVELS))]
    return {
        "site": SITE,
        "client_id": f"bench-esc-{os.getpid()}",
        "broker": {"host": broker.host, "port": broker.port},
        "storage": {"url": database_url},
        "api": {"host": "127.0.0.1", "port": port},
        "call_types": ["maintenance"],
        "reason_codes": ["fixed"],
        "areas": [{"id": "area1", "lines": [{"id": k, "stations": v} for k, v in lines.items()]}],
        "people": people,
        "escalation": {
            "policies": [
                {
                    "id": "bench",
                    "ack_timeout_s": 600,
                    "levels": [
                        {"after_s": after, "notify": [f"person:p{n}"]}
                        for n, after in enumerate(LEVELS)
                    ],
                }
            ]
        },
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p99": float("nan")}
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered), 2), "p99": round(p99, 2)}


def run_escalation_bench(
    *, broker: Broker, database_url: str, workdir: Path, calls: int = LINES * STATIONS_PER_LINE
) -> dict[str, Any]:
    receiver = _Receiver()
    receiver.thread.start()
    port = free_port()
    config = workdir / "hub.yaml"
    config.write_text(yaml.safe_dump(_settings(broker, database_url, port, receiver, calls)))
    log = (workdir / "hub.log").open("ab")
    hub = subprocess.Popen([*ANDON, "hub", "--config", str(config)], stdout=log, stderr=log)
    try:
        _wait_healthy(port)
        time.sleep(1.0)  # subscribed
        published = _press_all(broker, calls)
        expected = (len(published) - 1) * len(LEVELS)
        deadline = time.monotonic() + LEVELS[-1] + 30
        while len({key for _, key, _, _ in receiver.got}) < expected + len(LEVELS):
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        time.sleep(1.0)  # anything sent twice arrives meanwhile
        bases = _escalation_bases(database_url)
    finally:
        stop_process(hub, timeout_s=30)
        log.close()
        receiver.server.shutdown()
    counted = [got for got in receiver.got if got[2]["station"] != WARM_UP]
    del published[WARM_UP]
    result = _figures(counted, published, bases, expected)
    result.update(_tick_costs(workdir))
    return result


def _wait_healthy(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the hub did not start")


def _press_all(broker: Broker, calls: int) -> dict[str, float]:
    """One press per station, paced; the publish time of each, by station."""
    client = paho_client(f"bench-press-{os.getpid()}")
    client.connect(broker.host, broker.port)
    client.loop_start()
    topics = Topics("andon")
    published: dict[str, float] = {}
    for seq, (line, station) in enumerate([("line1", WARM_UP), *_stations(calls)], start=1):
        event = Event(
            event_id=make_event_id("bench-edge", seq), edge_id="bench-edge", seq=seq,
            ts=utc_now(), kind="call", site=SITE, area="area1", line=line, station=station,
            payload=CallPayload(call_type="maintenance"),
        )  # fmt: skip
        published[station] = time.time()
        topic = topics.event(SITE, "area1", line, station)
        client.publish(topic, event.model_dump_json(), qos=1).wait_for_publish(timeout=5)
        time.sleep(PRESS_EVERY_S if station != WARM_UP else 1.0)
    client.loop_stop()
    client.disconnect()
    return published


def _escalation_bases(database_url: str) -> dict[int, float]:
    engine = sqlalchemy.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(sqlalchemy.text("SELECT call_id, base_at FROM escalations")).all()
    engine.dispose()
    bases = {}
    for call_id, base in rows:
        moment = base if not isinstance(base, str) else _parse(base)
        bases[int(call_id)] = moment.timestamp()
    return bases


def _parse(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


def _figures(
    got: list[tuple[str, str, dict[str, Any], float]],
    published: dict[str, float],
    bases: dict[int, float],
    expected: int,
) -> dict[str, Any]:
    keys = [key for _, key, _, _ in got]
    first_ms, late_ms = [], []
    for _, _, body, at in got:
        if body["level"] == 0:
            first_ms.append((at - published[body["station"]]) * 1000)
        else:
            late_ms.append((at - (bases[body["call_id"]] + body["step_s"])) * 1000)
    return {
        "calls": len(published),
        "notifications": len(got),
        "missed": expected - len(set(keys)),
        "duplicated": len(keys) - len(set(keys)),
        "raise_to_first_notification_ms": _percentiles(first_ms),
        "level_lateness_ms": _percentiles(late_ms),
    }


def _tick_costs(workdir: Path, calls: int = 1000) -> dict[str, float]:
    """The engine's pass over ``calls`` open calls: idle (nothing due), then all due."""
    database = workdir / "tick.sqlite3"
    engine = open_engine(f"sqlite:///{database}")
    upgrade(engine)
    store = Store(engine)
    config = HubConfig.model_validate(
        {
            "site": SITE,
            "call_types": ["maintenance"],
            "reason_codes": ["fixed"],
            "areas": [{"id": "a", "lines": [{"id": "l", "stations": [{"id": "s"}]}]}],
            "people": [{"id": "p", "notify": ["json://127.0.0.1:9/p"]}],
            "escalation": {
                "policies": [
                    {
                        "id": "x",
                        "ack_timeout_s": 600,
                        "levels": [{"after_s": 600, "notify": ["person:p"]}],
                    }
                ]
            },
        }
    )
    now = utc_now()
    events = [
        Event(
            event_id=make_event_id("tick", n),
            edge_id="tick",
            seq=n,
            ts=now,
            kind="call",
            site=SITE,
            area="a",
            line="l",
            station=f"s{n:04d}",
            payload=CallPayload(call_type="maintenance"),
        )
        for n in range(1, calls + 1)
    ]
    store.ingest(events, now, snapshot_for=snapshots_from(config))
    escalation = EscalationEngine(store=store, config=lambda: config, workers=calls)
    idle = []
    for _ in range(50):
        started = time.perf_counter()
        escalation.tick(utc_now())
        idle.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    escalation.tick(now + timedelta(seconds=601))
    while escalation.more:  # a pass takes a batch; the next one follows at once
        escalation.tick(now + timedelta(seconds=601))
    due_ms = (time.perf_counter() - started) * 1000
    engine.dispose()
    return {
        "tick_ms_at_1000_open_calls": round(statistics.median(idle), 2),
        "tick_ms_1000_due": round(due_ms, 1),
    }
