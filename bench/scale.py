"""Scale benchmark: many simulated edges, real MQTT clients over a real Mosquitto, one hub.

The edges (``bench/scale_edges.py``) connect in one burst, as a plant's edges do after a
power cut (``connect_storm_s``: from the burst to every edge online in the hub's
database). Then, for ``duration_s``, every edge publishes one measurement message per
poll cycle (a second) with ``MEASUREMENTS`` readings of each of its stations, every
station raises a call every ``call_every_s`` on average, and one edge in ten drops its
connection once and comes back, keeping the calls raised meanwhile as the outbox does.

What is reported, and from where:

- ``calls``, ``lost``, ``duplicates``: every call raised must be in the hub's database
  once.
- ``call_lag_ms``: the hub's receipt time of a call minus the moment its last byte was
  written to the edge's socket (a call kept while its edge was away waited on purpose).
  ``simulator_behind_ms`` says how late the simulator ran its poll cycles against their
  schedule, so that a reader sees whether the offered load was met.
- ``measurements_per_s``: readings the hub's measurement process stored per second of the
  run (its ``andon_hub_measurement_messages_total{outcome="stored"}`` on /metrics, times
  the readings each message carries); ``measurements_offered_per_s`` what the simulator
  published; ``measurements_dropped`` the readings the hub dropped (its bounded queue was
  full), failed to store or rejected; ``measurements_drained_s`` how long after the run
  the hub had accounted for every message.
- ``hub_rss_mb`` (peak) and ``hub_cpu_percent`` (of one core, over the run): the hub
  and its ingest and measurement processes together; ``hub_pss_mb`` their peak
  proportional memory (shared pages not counted twice); ``simulator_cpu_percent`` the simulator's
  thread; ``load_average`` the machine's one-minute load at the end of the run.
- ``broker_cpu_percent`` (of one core, over the run): Mosquitto's, when the benchmark
  started it. Mosquitto handles every client in one thread, so this figure reaching 100
  is where one broker stops being enough; ``broker_messages_per_s`` the messages the
  simulator published per second of the run (measurement messages and calls), each
  delivered once to the hub.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.ingest import Broker
from bench.scale_edges import MEASUREMENTS, EdgeFleet
from bench.scale_hub import HubWatch, ScaleHub
from bench.usage import cpu_seconds

STORM_TIMEOUT_S = 300.0
DRAIN_TIMEOUT_S = 120.0
NOT_STORED = ("dropped", "failed", "rejected")


def percentiles(values: list[float]) -> dict[str, float]:
    return {"p50": round(_percentile(values, 50), 1), "p99": round(_percentile(values, 99), 1)}


def _percentile(values: list[float], n: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[n - 1]


def run_scale_bench(
    *, broker: Broker, database_url: str, workdir: Path, edges: int, stations: int,
    duration_s: float, call_every_s: float,
) -> dict[str, Any]:  # fmt: skip
    hub = ScaleHub(
        workdir=workdir, broker=broker, database_url=database_url, edges=edges, stations=stations
    )
    fleet = EdgeFleet(broker=broker, edges=edges, stations=stations, call_every_s=call_every_s)
    try:
        hub.start()
        with HubWatch(hub, edges) as watch:
            storm_s = _storm(fleet, watch)
            _measurements_flowing(hub, fleet)
            run = _run(hub, fleet, duration_s, broker_pid=broker.pid)
            fleet.finish()
            run |= _drain(hub, fleet, run)
            run["hub_rss_mb"] = round(watch.peak_rss_mb, 1)
            run["hub_pss_mb"] = round(watch.peak_pss_mb, 1)
        received = hub.receipts(fleet.pressed())
        counts = hub.counts()
    finally:
        hub.stop()
    published = fleet.published()
    lags = [
        (received[i] - datetime.fromtimestamp(published[i], UTC)).total_seconds() * 1000
        for i in published
        if i in received
    ]
    calls = len(fleet.pressed())
    return {
        "edges": edges, "stations": edges * stations, "calls": calls,
        "measurements_per_s": run.pop("measurements_per_s"), "lost": calls - len(received),
        "duplicates": counts["presses"] - counts["processed"] + counts["doubled"],
        "call_lag_ms": percentiles(lags), "hub_rss_mb": run.pop("hub_rss_mb"),
        "hub_cpu_percent": run.pop("hub_cpu_percent"), "connect_storm_s": round(storm_s, 2),
        "simulator_behind_ms": percentiles(fleet.tally.behind_ms), **run,
    }  # fmt: skip


def _storm(fleet: EdgeFleet, watch: HubWatch) -> float:
    """Every edge connects at once; seconds until the hub has them all online."""
    started = time.monotonic()
    fleet.connect_all()
    while not watch.all_online.is_set():
        if time.monotonic() - started > STORM_TIMEOUT_S:
            raise RuntimeError(f"{fleet.connected()} edges connected, not all online at the hub")
        fleet.run_until(time.monotonic() + 0.05, schedule=False)
    return watch.online_at - started


def _measurements_flowing(hub: ScaleHub, fleet: EdgeFleet) -> None:
    """Wait until the hub's measurement process stores what it is sent: its connection
    opens on its own, and what comes before it subscribes is not kept for it."""
    deadline = time.monotonic() + STORM_TIMEOUT_S
    while hub.measurement_outcomes().get("stored", 0.0) == 0:
        if time.monotonic() > deadline:
            raise RuntimeError("the hub's measurement process stored nothing")
        fleet.probe()
        fleet.run_until(time.monotonic() + 1.0, schedule=False)


def _run(
    hub: ScaleHub, fleet: EdgeFleet, duration_s: float, *, broker_pid: int | None
) -> dict[str, Any]:
    """The measured run: the poll cycles, the hub's and the broker's CPU and the stored
    measurements over it."""
    pids = hub.pids()
    outcomes = hub.measurement_outcomes()
    before = outcomes.get("stored", 0.0)
    cpu_before = cpu_seconds(pids)
    broker_pids = [] if broker_pid is None else [broker_pid]
    broker_before = cpu_seconds(broker_pids)
    messages_before = fleet.tally.measurement_messages + len(fleet.published())
    start = time.monotonic() + 0.2
    fleet.schedule(start, duration_s)
    fleet.run_until(start, schedule=False)
    fleet.run_until(start + duration_s, schedule=True)
    run_s = time.monotonic() - start
    hub_cpu = cpu_seconds(pids) - cpu_before
    broker_cpu = cpu_seconds(broker_pids) - broker_before
    messages = fleet.tally.measurement_messages + len(fleet.published()) - messages_before
    stored = hub.measurement_outcomes().get("stored", 0.0) - before
    per_message = MEASUREMENTS * fleet.stations
    return {
        "measurements_per_s": round(stored * per_message / run_s, 1),
        "measurements_offered_per_s": round(fleet.tally.readings / run_s, 1),
        "hub_cpu_percent": round(100 * hub_cpu / run_s, 1),
        "simulator_cpu_percent": round(100 * fleet.tally.cpu_s / run_s, 1),
        "broker_cpu_percent": round(100 * broker_cpu / run_s, 1) if broker_pids else None,
        "broker_messages_per_s": round(messages / run_s, 1),
        "load_average": round(os.getloadavg()[0], 2),
        "ended": time.monotonic(),
        "outcomes_before": outcomes,
    }


def _drain(hub: ScaleHub, fleet: EdgeFleet, run: dict[str, Any]) -> dict[str, Any]:
    """Wait until the hub has accounted for every measurement message published."""
    offered = fleet.tally.measurement_messages
    earlier = run.pop("outcomes_before")
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while True:
        now = hub.measurement_outcomes()
        outcomes = {key: value - earlier.get(key, 0.0) for key, value in now.items()}
        if sum(outcomes.values()) >= offered or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    ended = run.pop("ended")
    not_stored = sum(outcomes.get(outcome, 0.0) for outcome in NOT_STORED)
    unaccounted = max(0.0, offered - sum(outcomes.values()))
    return {
        "measurements_dropped": int((not_stored + unaccounted) * MEASUREMENTS * fleet.stations),
        "measurements_drained_s": round(time.monotonic() - ended, 1),
    }
