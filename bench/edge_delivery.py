"""Edge delivery benchmark: a press to the hub's confirmation and to the station's light,
and a backlog of 10,000 events replayed after a reconnect.

Real parts, all local: the Mosquitto and the PLC of ``andon bench edge``, ``andon hub``
(SQLite) and ``andon edge`` as child processes. A subscriber on the broker notes when
each event and each confirmation passes (one loopback hop from the edge); the bench
reads the station's light coils on the PLC as a tower light would see them.

- ``replay_events_per_s``: 10,000 call events are put in a stopped edge's outbox; the
  edge starts and drains them; events over the time from the first one reaching the
  broker to the hub's confirmation of the last one.
- ``press_to_hub_ack_ms``: from the button's coil set on the PLC to the hub's
  confirmation of its call event.
- ``press_to_light_ms``: from the coil set to the station's amber light coil set on the
  PLC by the edge, from the hub's light command.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Protocol

import httpx
import numpy as np
import yaml

from bench.edge import edge_device
from contract.mqtt import PahoClient, paho_client
from contract.netutil import free_port
from contract.processes import stop_process
from contract.wire import (
    CallPayload,
    Confirmation,
    Event,
    Topics,
    event_json,
    make_event_id,
    utc_now,
)
from edge.outbox import Outbox
from hub.calls.lifecycle import OPEN_STATES

ANDON = [sys.executable, "-m", "andon.cli"]
PREFIX, SITE, AREA, LINE, EDGE_ID = "benchd", "bench", "a", "l", "bench-delivery"
STATIONS = 20
LIGHT_BASE = 1000  # station i's light: coils LIGHT_BASE + 8 i (red, amber, blue, green, ...)
LIGHT_COILS = LIGHT_BASE + 8 * STATIONS
OUTPUTS = ["red", "amber", "blue", "green", "flashing", "buzzer", "line_stop"]
BACKLOG = 10_000


class Broker(Protocol):
    host: str
    port: int


class Plc(Protocol):
    host: str
    port: int

    def set_coil(self, address: int, value: bool) -> None: ...

    def coil(self, address: int) -> bool: ...


class _Listener:
    """Notes when each event seq and each confirmed seq passes the broker."""

    def __init__(self, broker: Broker) -> None:
        topics = Topics(PREFIX)
        self.ack_topic = topics.edge_ack(SITE, EDGE_ID)
        self.sent: dict[int, float] = {}
        self.confirmed: dict[int, float] = {}
        self.lock = threading.Lock()
        self.client = paho_client("bench-delivery")
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.subscribe(topics.station_event_filter(SITE), qos=1)
        self.client.subscribe(self.ack_topic, qos=1)
        self.client.loop_start()

    def _on_message(self, client: PahoClient, userdata: object, message: Any) -> None:
        del client, userdata
        now = time.monotonic()
        with self.lock:
            if message.topic == self.ack_topic:
                for seq in Confirmation.model_validate_json(message.payload).seqs():
                    self.confirmed.setdefault(seq, now)
            else:
                self.sent.setdefault(int(json.loads(message.payload)["seq"]), now)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _configs(
    folder: Path, broker: Broker, plc: Plc, api_port: int, poll_interval_s: float
) -> tuple[Path, Path]:
    stations = [f"st{i}" for i in range(STATIONS)]
    device, bit, _, item = edge_device(plc)  # Modbus coils, or an OPC UA server's bits
    broker_settings = {"host": broker.host, "port": broker.port, "topic_prefix": PREFIX}
    hub = {
        "site": SITE, "client_id": "bench-delivery-hub", "broker": broker_settings,
        "storage": {"url": f"sqlite:///{folder / 'hub.sqlite3'}"},
        "api": {"host": "127.0.0.1", "port": api_port},
        "call_types": ["help"], "reason_codes": ["fixed"],
        "areas": [{"id": AREA, "lines": [{"id": LINE, "stations": [{"id": s} for s in stations]}]}],
    }  # fmt: skip
    edge = {
        "edge_id": EDGE_ID, "site": SITE, "area": AREA, "line": LINE, "broker": broker_settings,
        "outbox": {"path": str(folder / "delivery-outbox.sqlite3")},
        "poll_interval_s": poll_interval_s, "debounce_s": 0.0,
        "devices": [device],
        "buttons": [
            {"device": "plc1", "address": bit(i), "station": s, "call_type": "help"} | item
            for i, s in enumerate(stations)
        ],
        "lights": [
            {"station": s, "device": "plc1",
             "outputs": {name: bit(LIGHT_BASE + 8 * i + k) for k, name in enumerate(OUTPUTS)}}
            for i, s in enumerate(stations)
        ],
    }  # fmt: skip
    hub_path, edge_path = folder / "delivery-hub.yaml", folder / "delivery-edge.yaml"
    hub_path.write_text(yaml.safe_dump(hub))
    edge_path.write_text(yaml.safe_dump(edge))
    return hub_path, edge_path


def _fill_outbox(path: Path, count: int) -> None:
    """``count`` call events waiting in a stopped edge's outbox, as a long outage leaves."""
    topics = Topics(PREFIX)
    outbox = Outbox(path)

    def build(seq: int) -> tuple[str, str]:
        station = f"st{seq % STATIONS}"
        event = Event(
            event_id=make_event_id(EDGE_ID, seq), edge_id=EDGE_ID, seq=seq, ts=utc_now(),
            kind="call", site=SITE, area=AREA, line=LINE, station=station,
            payload=CallPayload(call_type="help"),
        )  # fmt: skip
        return topics.station_event(SITE, AREA, LINE, station, EDGE_ID), event_json(event)

    try:
        for start in range(0, count, 1000):
            outbox.add_many([build] * min(1000, count - start))
    finally:
        outbox.close()


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.001)


def _token(hub_config: Path) -> str:
    done = subprocess.run(
        [*ANDON, "token", "create", "--config", str(hub_config), "--name", "bench-delivery",
         "--role", "admin"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


def _resolve_open_calls(api: httpx.Client) -> None:
    for state in OPEN_STATES:
        for call in api.get("/api/calls", params={"state": state, "limit": "500"}).json()["calls"]:
            api.post(f"/api/calls/{call['id']}/resolve", json={"reason_code": "fixed"})


def run_delivery_benchmark(
    folder: Path, broker: Broker, plc: Plc, *, poll_interval_s: float, presses: int
) -> dict[str, Any]:
    """The three delivery figures, on their own hub and edge beside the main workload's."""
    api_port = free_port()
    hub_config, edge_config = _configs(folder, broker, plc, api_port, poll_interval_s)
    _fill_outbox(folder / "delivery-outbox.sqlite3", BACKLOG)
    listener = _Listener(broker)
    logs = (folder / "delivery-hub.log").open("wb"), (folder / "delivery-edge.log").open("wb")
    token = _token(hub_config)
    hub = subprocess.Popen(
        [*ANDON, "hub", "--config", str(hub_config)],
        stdout=logs[0],
        stderr=subprocess.STDOUT,
        cwd=folder,
    )
    edge: subprocess.Popen[bytes] | None = None
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=10,
                          headers={"Authorization": f"Bearer {token}"}) as api:  # fmt: skip
            _wait(lambda: _healthy(api), 60, "the hub")
            edge = subprocess.Popen(
                [*ANDON, "edge", "--config", str(edge_config)],
                stdout=logs[1],
                stderr=subprocess.STDOUT,
                cwd=folder,
            )
            _wait(lambda: len(listener.confirmed) >= BACKLOG, 300, "the backlog confirmed")
            with listener.lock:
                first = min(listener.sent.values())
                last = max(listener.confirmed[seq] for seq in range(1, BACKLOG + 1))
            replay = BACKLOG / (last - first)
            _resolve_open_calls(api)
            for i in range(STATIONS):
                _wait(lambda i=i: plc.coil(LIGHT_BASE + 8 * i + 3), 30, "green lights")
            acks, lights = _press_and_time(plc, api, listener, presses, poll_interval_s)
    finally:
        for process in (edge, hub):
            if process is not None:
                stop_process(process, timeout_s=30)
        for log in logs:
            log.close()
        listener.close()
    return {
        "press_to_hub_ack_ms": _percentiles(acks),
        "press_to_light_ms": _percentiles(lights),
        "replay_events_per_s": round(replay, 1),
        "replay_events": BACKLOG,
    }


def _healthy(api: httpx.Client) -> bool:
    try:
        return api.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def _press_and_time(
    plc: Plc, api: httpx.Client, listener: _Listener, presses: int, poll_interval_s: float
) -> tuple[list[float], list[float]]:
    acks: list[float] = []
    lights: list[float] = []
    rng = np.random.default_rng(3)
    for n in range(presses):
        station = n % STATIONS
        amber, green = LIGHT_BASE + 8 * station + 1, LIGHT_BASE + 8 * station + 3
        with listener.lock:
            known = set(listener.sent)
        time.sleep(float(rng.uniform(0, poll_interval_s)))  # anywhere in the poll cycle
        pressed_at = time.monotonic()
        plc.set_coil(station, True)
        _wait(lambda amber=amber: plc.coil(amber), 10, "the amber light")
        lights.append((time.monotonic() - pressed_at) * 1000)
        _wait(lambda known=known: set(listener.sent) - known, 10, "the call event")
        with listener.lock:
            (seq,) = set(listener.sent) - known
        _wait(lambda seq=seq: seq in listener.confirmed, 10, "the confirmation")
        acks.append((listener.confirmed[seq] - pressed_at) * 1000)
        plc.set_coil(station, False)
        _resolve_open_calls(api)
        _wait(lambda green=green: plc.coil(green), 10, "the green light")
    return acks, lights


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None}
    return {
        "p50": round(statistics.median(values), 1),
        "p99": round(float(np.percentile(values, 99)), 1),
    }
