"""Scale benchmark: many simulated edges, real MQTT clients over a real Mosquitto, one hub.

Each simulated edge is its own MQTT client with its own persistent session, a Last Will
and a retained status, as the edge agent has. They connect in one burst, as a plant's
edges do after a power cut (``connect_storm_s``: from the burst to every edge online in
the hub's database). Then, for ``duration_s``, every edge publishes one measurement
message per poll cycle (a second), with ``MEASUREMENTS`` readings of each of its
stations, as the edge agent does; every station raises a call every ``call_every_s`` on average
(exponential gaps); one edge in ten drops its connection once and comes back, keeping
the calls raised meanwhile as the outbox does. Last, every call must be in the hub's
database once: ``lost`` and ``duplicates``; ``call_lag_ms`` is the hub's receipt time
minus the moment the call was published. The hub's memory and CPU include its ingest and
measurement worker processes.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiomqtt

from bench.ingest import Broker, _HubProcess
from contract.wire import (
    EDGE_OFFLINE,
    EDGE_ONLINE,
    CallPayload,
    Event,
    Topics,
    event_json,
    make_event_id,
    utc_now,
)
from edge.measurement_json import ReadingRow, measurement_json

SITE = "bench"
AREA = "area1"
MEASUREMENTS = 5  # readings per station a second, one message per poll cycle
POLL_CYCLE_S = 1.0
DROP_EVERY = 10  # one edge in ten drops and reconnects
TOPICS = Topics("andon")


@dataclass
class SimulatedEdge:
    """One edge: its line, its own client id and sequence, what it published."""

    index: int
    stations: int
    seq: int = 0
    pressed: dict[str, datetime] = field(default_factory=dict)
    published: dict[str, datetime] = field(default_factory=dict)  # sent to the broker
    pending: list[tuple[str, str, str]] = field(default_factory=list)  # the outbox while away
    readings_acknowledged: int = 0
    next_cycle: float = 0.0

    @property
    def edge_id(self) -> str:
        return f"edge{self.index}"

    @property
    def line(self) -> str:
        return f"line{self.index}"

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def client(self, broker: Broker) -> aiomqtt.Client:
        status = TOPICS.edge_status(SITE, self.edge_id)
        client = aiomqtt.Client(
            broker.host,
            broker.port,
            identifier=f"bench-{self.edge_id}",
            clean_session=False,
            keepalive=30,
            will=aiomqtt.Will(status, EDGE_OFFLINE, qos=1, retain=True),
            timeout=60,
        )
        # A cycle's calls and measurements are in flight together: more than aiomqtt's
        # default ten pending calls, which it would warn about.
        client.pending_calls_threshold = 10 * self.stations
        return client

    def call(self, station: str) -> tuple[str, str, str]:
        seq = self.next_seq()
        event = Event(
            event_id=make_event_id(self.edge_id, seq), edge_id=self.edge_id, seq=seq,
            ts=utc_now(), kind="call", site=SITE, area=AREA, line=self.line,
            station=station, payload=CallPayload(call_type="maintenance"),
        )  # fmt: skip
        self.pressed[event.event_id] = event.ts
        return event.event_id, TOPICS.event(SITE, AREA, self.line, station), event_json(event)

    def measurement(self, values: list[float]) -> tuple[str, str]:
        """One poll cycle's message: every station's readings (one value per station)."""
        seq = self.next_seq()
        head: dict[str, object] = {
            "event_id": make_event_id(self.edge_id, seq), "edge_id": self.edge_id, "seq": seq,
            "ts": utc_now().isoformat().replace("+00:00", "Z"), "site": SITE, "area": AREA,
            "line": self.line,
        }  # fmt: skip
        readings: list[ReadingRow] = [
            (f"st{station}", f"m{n}", value + n, "mm")
            for station, value in enumerate(values, start=1)
            for n in range(MEASUREMENTS)
        ]
        return TOPICS.measurement(SITE, self.edge_id), measurement_json(head, readings, [], {})


async def _online(client: aiomqtt.Client, edge: SimulatedEdge) -> None:
    status = TOPICS.edge_status(SITE, edge.edge_id)
    await client.publish(status, EDGE_ONLINE, qos=1, retain=True)
    for event_id, topic, body in edge.pending:
        edge.published[event_id] = utc_now()
        await client.publish(topic, body, qos=1)
    edge.pending.clear()


async def _cycle(
    client: aiomqtt.Client | None, edge: SimulatedEdge, rng: random.Random, call_chance: float
) -> None:
    """One poll cycle: the calls that fell in it first, then every station's measurements
    in flight together (the agent's publisher does not wait for one PUBACK at a time)."""
    for number in range(1, edge.stations + 1):
        if rng.random() < call_chance:
            event_id, topic, body = edge.call(f"st{number}")
            if client is None:
                edge.pending.append((event_id, topic, body))
            else:
                edge.published[event_id] = utc_now()
                await client.publish(topic, body, qos=1)
    if client is None:
        return
    topic, body = edge.measurement([rng.gauss(10, 1) for _ in range(edge.stations)])
    await client.publish(topic, body, qos=1)
    edge.readings_acknowledged += MEASUREMENTS * edge.stations


async def _next_cycle(edge: SimulatedEdge) -> None:
    """Sleep until the edge's next poll cycle is due, on a fixed schedule."""
    now = time.monotonic()
    edge.next_cycle = max(now, edge.next_cycle + POLL_CYCLE_S)
    await asyncio.sleep(edge.next_cycle - now)


def _hub_settings(edges: int, stations: int) -> list[dict[str, Any]]:
    names = [{"id": f"st{s}"} for s in range(1, stations + 1)]
    return [{"id": f"line{e}", "stations": names} for e in range(edges)]


class _ScaleHub(_HubProcess):
    """The ingest benchmark's hub process with one line per simulated edge."""

    def __init__(self, workdir: Path, broker: Broker, database_url: str, lines: list[Any]) -> None:
        super().__init__(workdir, broker, database_url)
        import yaml

        settings = yaml.safe_load(self.config.read_text())
        settings["areas"] = [{"id": AREA, "lines": lines}]
        self.config.write_text(yaml.safe_dump(settings))

    def online(self) -> int:
        with self.engine.connect() as conn:
            count = conn.exec_driver_sql(
                "SELECT COUNT(*) FROM edges WHERE status = 'online'"
            ).scalar()
        return int(count or 0)

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid


def _process_tree(pid: int) -> list[int]:
    """``pid`` and its children (the hub's ingest and measurement workers), from /proc."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [pid]
    if children.exists():
        for child in children.read_text().split():
            found += _process_tree(int(child))
    return found


def _cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _rss_mb(pids: list[int]) -> float:
    total_kb = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


def _percentile(values: list[float], n: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[n - 1]


def run_scale_bench(
    *, broker: Broker, database_url: str, workdir: Path, edges: int, stations: int,
    duration_s: float, call_every_s: float,
) -> dict[str, Any]:  # fmt: skip
    hub = _ScaleHub(workdir, broker, database_url, _hub_settings(edges, stations))
    sims = [SimulatedEdge(index=i, stations=stations) for i in range(edges)]
    try:
        hub.start()
        storm_s, run_s, cpu_s, rss = asyncio.run(_run(hub, broker, sims, duration_s, call_every_s))
        pressed = {event_id: at for edge in sims for event_id, at in edge.pressed.items()}
        published = {event_id: at for edge in sims for event_id, at in edge.published.items()}
        received = hub.receipts(list(pressed))
        counts = hub.counts()
    finally:
        hub.stop()
    # From the publish: a call kept in the outbox while its edge was away waited on purpose.
    lags = [(received[i] - published[i]).total_seconds() * 1000 for i in published if i in received]
    return {
        "edges": edges,
        "stations": edges * stations,
        "calls": len(pressed),
        "measurements_per_s": round(sum(e.readings_acknowledged for e in sims) / run_s, 1),
        "lost": len(pressed) - len(received),
        "duplicates": counts["presses"] - counts["processed"] + counts["doubled"],
        "call_lag_ms": {
            "p50": round(_percentile(lags, 50), 1),
            "p99": round(_percentile(lags, 99), 1),
        },
        "hub_rss_mb": round(rss, 1),
        "hub_cpu_percent": round(100 * cpu_s / run_s, 1),
        "connect_storm_s": round(storm_s, 2),
    }


async def _run(
    hub: _ScaleHub, broker: Broker, sims: list[SimulatedEdge], duration_s: float,
    call_every_s: float,
) -> tuple[float, float, float, float]:  # fmt: skip
    connected = asyncio.Barrier(len(sims) + 1)
    started = time.monotonic()
    deadline: list[float] = []
    tasks = [
        asyncio.create_task(_run_edge(edge, broker, connected, deadline, call_every_s))
        for edge in sims
    ]
    # The hub's database is another process's: polled, there is no event to wait on.
    while await asyncio.to_thread(hub.online) < len(sims):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    storm_s = time.monotonic() - started
    pids = _process_tree(hub.pid)
    cpu_before = _cpu_seconds(pids)
    run_start = time.monotonic()
    deadline.append(run_start + duration_s)
    await connected.wait()
    peak = 0.0
    pending = set(tasks)
    while pending:
        done, pending = await asyncio.wait(pending, timeout=1.0)
        for task in done:
            task.result()  # an edge that failed fails the run
        peak = max(peak, _rss_mb(pids))
    run_s = time.monotonic() - run_start
    return storm_s, run_s, _cpu_seconds(pids) - cpu_before, peak


async def _run_edge(
    edge: SimulatedEdge, broker: Broker, connected: asyncio.Barrier, deadline: list[float],
    call_every_s: float,
) -> None:  # fmt: skip
    """Connect in the burst; once every edge is online, run until the shared deadline.

    One edge in ten says offline midway, is away for two poll cycles and comes back."""
    rng = random.Random(edge.index)
    call_chance = POLL_CYCLE_S / call_every_s
    drops = edge.index % DROP_EVERY == 0
    async with edge.client(broker) as client:
        await _online(client, edge)
        await connected.wait()
        until = deadline[0]
        drop_at = time.monotonic() + rng.uniform(0.3, 0.6) * (until - time.monotonic())
        while time.monotonic() < (drop_at if drops else until):
            await _cycle(client, edge, rng, call_chance)
            await _next_cycle(edge)
        if not drops:
            return
        status = TOPICS.edge_status(SITE, edge.edge_id)
        await client.publish(status, EDGE_OFFLINE, qos=1, retain=True)
    # Away for two poll cycles: calls wait in the outbox, measurements are not read.
    for _ in range(2):
        await _cycle(None, edge, rng, call_chance)
        await _next_cycle(edge)
    async with edge.client(broker) as client:
        await _online(client, edge)
        while time.monotonic() < until:
            await _cycle(client, edge, rng, call_chance)
            await _next_cycle(edge)
