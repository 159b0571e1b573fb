"""Edge agent benchmark: 200 buttons and 200 measurements polled at 10 Hz, SPC on all of them.

Everything is real and local: a Mosquitto broker, a pymodbus server as the PLC (both
started by ``andon bench edge``, which hands them in), and ``andon edge`` as a child
process, so its memory and CPU are its own. With an OPC UA PLC (``--device opcua``,
``testbed.opcua_plc``) the same buttons and measurements are monitored items of one
subscription (sampled every 10 ms, published every 20 ms) instead of polled. The benchmark
presses buttons one at a time on the PLC and times each press from the moment the coil
is set to the moment its call arrives at a subscriber on the broker (the event leaving
the agent, plus one hop over loopback). The measurements move (in control) every poll.
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import yaml

from bench.usage import cpu_seconds, rss_mb
from contract.mqtt import PahoClient, paho_client
from contract.processes import stop_process
from contract.wire import Event, Topics
from testbed.opcua_plc import SimulatedOpcUaPlc

STATIONS = 20
# An OPC UA server's subscription: how often it samples each item, and sends what changed.
SAMPLING_MS, PUBLISHING_MS = 10.0, 20.0


class Broker(Protocol):
    """A running MQTT broker on loopback."""

    host: str
    port: int


class Reachable(Protocol):
    """A running PLC: a Modbus TCP server, or an OPC UA one (``SimulatedOpcUaPlc``)."""

    host: str
    port: int


class Plc(Reachable, Protocol):
    """A running PLC whose coils and registers the benchmark sets (an OPC UA PLC's bits
    and words stand for them)."""

    def set_coil(self, address: int, value: bool) -> None: ...

    def set_registers(self, table: str, address: int, values: list[int]) -> None: ...


Address = Callable[[int], int | str]


def edge_device(
    plc: Reachable, device_id: str = "plc1"
) -> tuple[dict[str, Any], Address, Address, dict[str, float]]:
    """The edge's device for ``plc``, the addresses of its bit i and word i, and what
    each tag adds (an OPC UA item's sampling interval)."""
    if isinstance(plc, SimulatedOpcUaPlc):
        device: dict[str, Any] = {"kind": "opcua", "id": device_id, "endpoint": plc.endpoint}
        device["publishing_interval_ms"] = PUBLISHING_MS
        return device, plc.bit_node, plc.word_node, {"sampling_interval_ms": SAMPLING_MS}
    modbus = {"kind": "modbus_tcp", "id": device_id, "host": plc.host, "port": plc.port}
    return modbus, int, int, {}


def _edge_config(
    folder: Path, broker: Broker, plc: Plc, *, buttons: int, measurements: int,
    poll_interval_s: float,
) -> Path:  # fmt: skip
    device, bit, word, item = edge_device(plc)
    rules = {
        "characteristics": [
            {"id": f"c{i}", "chart": "imr", "center": 1000.0, "sigma": 10.0}
            for i in range(measurements)
        ]
    }
    (folder / "rules.yaml").write_text(yaml.safe_dump(rules))
    config = {
        "edge_id": "bench-edge",
        "site": "bench",
        "area": "a",
        "line": "l",
        "broker": {"host": broker.host, "port": broker.port, "topic_prefix": "bench"},
        # No hub confirms anything in this phase: with the default window of 1000 the
        # agent would stop sending once calls and anomalies fill it (as it does for a
        # hub that is away), and the presses after that would count as lost.
        "outbox": {"path": str(folder / "outbox.sqlite3"), "window": 100_000},
        "poll_interval_s": poll_interval_s,
        # At 10 Hz two samples are 100 ms apart, far longer than contact bounce: a press
        # counts on the first sample that sees it (debounce_s > 0 needs a second one).
        "debounce_s": 0.0,
        "devices": [device],
        "buttons": [
            {"device": "plc1", "address": bit(i), "station": f"st{i % STATIONS}"}
            | {"call_type": "help"}
            | item
            for i in range(buttons)
        ],
        "measurements": [
            {"name": f"m{i}", "device": "plc1", "address": word(i), "type": "uint16"}
            | {"scale": 0.1, "station": f"st{i % STATIONS}"}
            | item
            for i in range(measurements)
        ],
    }
    if measurements:  # a rule file holds at least one characteristic
        config["spc"] = {
            "rule_file": "rules.yaml",
            "characteristics": [
                {"characteristic": f"c{i}", "measurement": f"m{i}"} for i in range(measurements)
            ],
        }
    path = folder / "edge.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


class _Calls:
    """A subscriber that notes when each call arrives."""

    def __init__(self, broker: Broker, topics: Topics) -> None:
        self.arrived: dict[str, float] = {}
        self.measurement_messages = 0
        self.anomalies = 0
        self.other_events = 0  # faults, device status: not calls
        self.lock = threading.Lock()
        self.client = paho_client("bench-listener")
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.subscribe(topics.station_event_filter("bench"), qos=1)
        self.client.subscribe(topics.measurement_filter("bench"), qos=1)
        self.client.loop_start()

    def _on_message(self, client: PahoClient, userdata: object, message: Any) -> None:
        del client, userdata
        now = time.monotonic()
        if message.topic.endswith("/measurement"):
            self.measurement_messages += 1
            return
        if b'"kind":"anomaly"' in message.payload:
            self.anomalies += 1
            return
        if b'"kind":"call"' not in message.payload:
            self.other_events += 1
            return
        event = Event.model_validate_json(message.payload)
        with self.lock:
            self.arrived[event.station + "/" + str(event.seq)] = now

    def count(self) -> int:
        with self.lock:
            return len(self.arrived)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _wait(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def _move_measurements(plc: Plc, count: int, stop: threading.Event, period: float) -> None:
    """In-control noise around 1000.0 (raw 10000, scale 0.1) on every register."""
    rng = np.random.default_rng(1)
    while not stop.wait(period):
        values = np.clip(rng.normal(10000, 100, count), 0, 65535).astype(int).tolist()
        plc.set_registers("holding_register", 0, values)


def run_edge_benchmark(
    folder: Path, broker: Broker, plc: Plc, *, buttons: int = 200, measurements: int = 200,
    poll_interval_s: float = 0.1, presses: int = 100, warmup_s: float = 3.0,
) -> dict[str, Any]:  # fmt: skip
    """Run the workload against ``broker`` and ``plc`` (registers 0 to the larger of
    ``buttons`` and ``measurements``); return the pinned keys (plus a few details)."""
    path = _edge_config(
        folder, broker, plc, buttons=buttons, measurements=measurements,
        poll_interval_s=poll_interval_s,
    )  # fmt: skip
    return measure_process(
        [sys.executable, "-m", "andon.cli", "edge", "--config", str(path)], folder, broker,
        plc, buttons=buttons, measurements=measurements, poll_interval_s=poll_interval_s,
        presses=presses, warmup_s=warmup_s,
    )  # fmt: skip


def measure_process(
    command: list[str], folder: Path, broker: Broker, plc: Plc, *, buttons: int,
    measurements: int, poll_interval_s: float, presses: int, warmup_s: float,
) -> dict[str, Any]:  # fmt: skip
    """Run ``command`` (an agent publishing calls as ``bench-edge`` under the ``bench``
    prefix) while the PLC's registers move and its buttons are pressed; the pinned keys."""
    calls = _Calls(broker, Topics("bench"))
    stop = threading.Event()
    mover = threading.Thread(
        target=_move_measurements, args=(plc, measurements, stop, poll_interval_s), daemon=True
    )
    log = (folder / "edge.log").open("wb")
    edge = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    try:
        mover.start()
        time.sleep(warmup_s)
        if edge.poll() is not None:  # a configuration it refused, say: no presses to time
            tail = (folder / "edge.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the agent exited ({edge.returncode}) before the presses:\n{tail}")
        cpu0, wall0 = cpu_seconds([edge.pid]), time.monotonic()
        latencies, lost = _press_buttons(plc, calls, buttons, presses, poll_interval_s)
        cpu1, wall1 = cpu_seconds([edge.pid]), time.monotonic()
        rss = rss_mb([edge.pid])
    finally:
        stop.set()
        stop_process(edge, timeout_s=15)
        log.close()
        calls.close()
    return {
        "poll_interval_ms": poll_interval_s * 1000,
        "tags": buttons + measurements,
        "events": calls.count(),
        "lost": lost,
        "press_to_publish_ms": {
            "p50": statistics.median(latencies) if latencies else None,
            "p99": float(np.percentile(latencies, 99)) if latencies else None,
        },
        "rss_mb": rss,
        "cpu_percent": 100 * (cpu1 - cpu0) / (wall1 - wall0),
        "measurement_messages": calls.measurement_messages,
        "anomalies": calls.anomalies,
        "other_events": calls.other_events,
        "seconds": wall1 - wall0,
    }


def _press_buttons(
    plc: Plc, calls: _Calls, buttons: int, presses: int, poll_interval_s: float,
    *, wait_s: float = 5.0,
) -> tuple[list[float], int]:  # fmt: skip
    """Press ``presses`` random buttons one after another; latencies (ms) and lost presses.

    The presses go round the stations (a random button of each in turn): a station pressed
    more than ten times a minute chatters, and the agent drops its further presses by
    design (``chatter:`` in docs/configuration.md). Random stations hit that in a long
    run, and the dropped presses counted as lost; in turn, at a press every 0.4 s (the
    default 100 ms poll), each of the 20 stations has 7.5 a minute. A chatter fault that
    still comes is counted in ``other_events``. ``wait_s``: how long a press waits for its
    call before it counts as lost."""
    rng = random.Random(2)
    latencies: list[float] = []
    lost = 0
    stations = min(STATIONS, buttons)
    for number in range(presses):
        # Button ``address`` belongs to station ``address % STATIONS`` (``_edge_config``).
        address = rng.randrange(number % stations, buttons, STATIONS)
        seen = calls.count()
        time.sleep(rng.uniform(0, poll_interval_s))  # land anywhere in the poll cycle
        pressed_at = time.monotonic()
        plc.set_coil(address, True)
        if _wait(lambda seen=seen: calls.count() > seen, timeout=wait_s):
            with calls.lock:
                arrived = max(calls.arrived.values())
            latencies.append((arrived - pressed_at) * 1000)
        else:
            lost += 1
        time.sleep(poll_interval_s * 1.5)
        plc.set_coil(address, False)
        time.sleep(poll_interval_s * 1.5)  # released long enough to be seen released
    return latencies, lost
