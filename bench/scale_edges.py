"""The scale benchmark's simulated edges: many real MQTT clients driven by one thread.

Each edge is its own paho-mqtt client with its own persistent session, a Last Will and a
retained status, as the edge agent has. One thread drives them all through one selector
(paho's external-loop API), so a publish is written to its socket by the call that makes
it, with no event loop or task in between: the simulator costs a few percent of a core
at 500 edges, and what a call's lag measures is the broker's and the hub's time.

Per poll cycle (a second, each edge at its own phase of it, as edges that booted at
different moments are) an edge raises the calls that fell in that cycle and publishes
one measurement message with ``MEASUREMENTS`` readings of each of its stations. The
message is built from a readings block made once (the same wire JSON the agent's
``measurement_json`` makes), so that the simulator does not spend per reading what the
hub is being measured on.
"""

from __future__ import annotations

import heapq
import random
import selectors
import time
from dataclasses import dataclass, field
from typing import Any

from bench.ingest import Broker
from contract.mqtt import ErrorCode, PahoClient, error_text, paho_client
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
from edge.measurement_json import ReadingRow, measurement_payload_json, wrap_payload

SITE = "bench"
AREA = "area1"
MEASUREMENTS = 5  # readings per station a second, one message per poll cycle
POLL_CYCLE_S = 1.0
DROP_EVERY = 10  # one edge in ten drops and reconnects
AWAY_CYCLES = 2
READING_BLOCKS = 64  # different readings payloads, picked at random per message
TOPICS = Topics("andon")


def reading_blocks(stations: int, rng: random.Random) -> list[str]:
    """Readings payloads for a line of ``stations``: every line names its stations alike."""
    blocks = []
    for _ in range(READING_BLOCKS):
        readings: list[ReadingRow] = [
            (f"st{station}", f"m{n}", round(rng.gauss(10, 1) + n, 4), "mm")
            for station in range(1, stations + 1)
            for n in range(MEASUREMENTS)
        ]
        blocks.append(measurement_payload_json(readings, [], {}))
    return blocks


@dataclass
class SimulatedEdge:
    """One edge: its client, its sequence, its schedule and what it published."""

    index: int
    stations: int
    client: PahoClient
    seq: int = 0
    due: float = 0.0  # the next poll cycle, by time.monotonic()
    online: bool = False
    away_cycles: int = 0
    drop_at: float | None = None  # time.monotonic() of the drop, for one edge in ten
    pressed: list[str] = field(default_factory=list)  # every call raised
    published: dict[str, float] = field(default_factory=dict)  # call -> written (epoch s)
    unwritten: list[str] = field(default_factory=list)  # calls still in the client's queue
    outbox: list[tuple[str, str, str]] = field(default_factory=list)  # calls while away

    @property
    def edge_id(self) -> str:
        return f"edge{self.index}"

    @property
    def line(self) -> str:
        return f"line{self.index}"

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def call(self, station: str) -> tuple[str, str, str]:
        seq = self.next_seq()
        event = Event(
            event_id=make_event_id(self.edge_id, seq), edge_id=self.edge_id, seq=seq,
            ts=utc_now(), kind="call", site=SITE, area=AREA, line=self.line,
            station=station, payload=CallPayload(call_type="maintenance"),
        )  # fmt: skip
        self.pressed.append(event.event_id)
        return event.event_id, TOPICS.event(SITE, AREA, self.line, station), event_json(event)

    def measurement(self, block: str) -> str:
        seq = self.next_seq()
        head = {
            "event_id": make_event_id(self.edge_id, seq), "edge_id": self.edge_id, "seq": seq,
            "ts": utc_now().isoformat().replace("+00:00", "Z"), "site": SITE, "area": AREA,
            "line": self.line,
        }  # fmt: skip
        return wrap_payload(head, block)

    def stamp_written(self) -> None:
        """Calls whose bytes have all left the client: written now."""
        if self.unwritten and not self.client.want_write():
            now = time.time()
            for event_id in self.unwritten:
                self.published[event_id] = now
            self.unwritten.clear()


@dataclass
class FleetTally:
    """What the fleet offered, and how far behind its schedule it ran."""

    calls: int = 0
    measurement_messages: int = 0
    readings: int = 0
    behind_ms: list[float] = field(default_factory=list)  # each cycle: start - due
    cpu_s: float = 0.0


class EdgeFleet:
    """The simulated edges, connected in one burst, then run on their schedules."""

    def __init__(self, *, broker: Broker, edges: int, stations: int, call_every_s: float) -> None:
        self.broker = broker
        self.stations = stations
        self.call_chance = POLL_CYCLE_S / call_every_s
        self.rng = random.Random(12)
        self.blocks = reading_blocks(stations, self.rng)
        self.selector = selectors.DefaultSelector()
        self.edges = [self._edge(index) for index in range(edges)]
        self.writing: set[int] = set()  # sockets registered for write readiness
        self.tally = FleetTally()

    def _edge(self, index: int) -> SimulatedEdge:
        client = paho_client(f"bench-edge{index}", clean_session=False)
        client.max_inflight_messages_set(100)  # a cycle's calls and its message together
        client.max_queued_messages_set(0)
        status = TOPICS.edge_status(SITE, f"edge{index}")
        client.will_set(status, EDGE_OFFLINE, qos=1, retain=True)
        edge = SimulatedEdge(index=index, stations=self.stations, client=client)
        client.user_data_set(edge)
        client.on_connect = self._on_connect
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        return edge

    # -- paho's callbacks (inside its callback lock: what they publish is queued) ---------

    def _on_connect(self, client: PahoClient, edge: SimulatedEdge, *_: Any) -> None:
        client.publish(TOPICS.edge_status(SITE, edge.edge_id), EDGE_ONLINE, qos=1, retain=True)
        for event_id, topic, body in edge.outbox:
            client.publish(topic, body, qos=1)
            edge.unwritten.append(event_id)
        edge.outbox.clear()
        edge.online = True
        self._want_write(edge)

    def _on_socket_open(self, client: PahoClient, edge: SimulatedEdge, sock: Any) -> None:
        self.selector.register(sock, selectors.EVENT_READ, edge)

    def _on_socket_close(self, client: PahoClient, edge: SimulatedEdge, sock: Any) -> None:
        self.selector.unregister(sock)
        self.writing.discard(sock.fileno())
        edge.online = False

    # -- the loop ------------------------------------------------------------------------

    def connect_all(self) -> None:
        """Every edge's CONNECT sent at once (the burst); CONNACKs arrive in ``turn``."""
        for edge in self.edges:
            edge.client.connect(self.broker.host, self.broker.port, keepalive=30)
            self._want_write(edge)

    def connected(self) -> int:
        return sum(edge.online for edge in self.edges)

    def run_until(self, moment: float, *, schedule: bool) -> None:
        """Serve the sockets (and, with ``schedule``, the poll cycles) until ``moment``."""
        cpu = time.thread_time()
        misc_at = time.monotonic()
        queue = [(edge.due, edge.index) for edge in self.edges] if schedule else []
        heapq.heapify(queue)
        while (now := time.monotonic()) < moment:
            while queue and queue[0][0] <= now:
                _, index = heapq.heappop(queue)
                edge = self.edges[index]
                if edge.due < moment:
                    self._cycle(edge, now)
                    heapq.heappush(queue, (edge.due, index))
            if now >= misc_at:
                misc_at = now + 1.0
                self._keepalive()
            wake = min(queue[0][0] if queue else moment, moment, misc_at)
            self.turn(max(0.0, wake - time.monotonic()))
        self.tally.cpu_s += time.thread_time() - cpu

    def turn(self, timeout: float) -> None:
        """One pass over the sockets that are ready: read what came, write what waits."""
        for key, events in self.selector.select(timeout):
            edge: SimulatedEdge = key.data
            if events & selectors.EVENT_READ:
                self._check(edge, edge.client.loop_read())
            if events & selectors.EVENT_WRITE and edge.client.socket() is not None:
                self._check(edge, edge.client.loop_write())
            self._want_write(edge)

    def _keepalive(self) -> None:
        for edge in self.edges:
            if edge.client.socket() is not None:
                self._check(edge, edge.client.loop_misc())
                self._want_write(edge)

    @staticmethod
    def _check(edge: SimulatedEdge, rc: ErrorCode) -> None:
        """Only sockets the edge holds open are served: any error there fails the run."""
        if rc != ErrorCode.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"{edge.edge_id} lost its connection: {error_text(rc)}")

    def _want_write(self, edge: SimulatedEdge) -> None:
        """Watch a socket for write readiness only while its client has bytes waiting."""
        sock = edge.client.socket()
        if sock is None:
            return
        fd = sock.fileno()
        wants = edge.client.want_write()
        if wants != (fd in self.writing):
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if wants else 0)
            self.selector.modify(sock, events, edge)
            if wants:
                self.writing.add(fd)
            else:
                self.writing.discard(fd)
        edge.stamp_written()

    # -- one poll cycle ------------------------------------------------------------------

    def _cycle(self, edge: SimulatedEdge, now: float) -> None:
        self.tally.behind_ms.append((now - edge.due) * 1000)
        edge.due += POLL_CYCLE_S  # a fixed schedule: a late cycle is caught up, not skipped
        if edge.drop_at is not None and now >= edge.drop_at and edge.online:
            self._drop(edge)
        elif edge.away_cycles > 0:
            edge.away_cycles -= 1
            if edge.away_cycles == 0:
                edge.drop_at = None
                edge.client.reconnect()  # its session waits at the broker
                self._want_write(edge)
        for number in range(1, edge.stations + 1):
            if self.rng.random() < self.call_chance:
                self._call(edge, f"st{number}")
        if edge.online:
            body = edge.measurement(self.blocks[self.rng.randrange(READING_BLOCKS)])
            edge.client.publish(TOPICS.measurement(SITE, edge.edge_id), body, qos=1)
            self.tally.measurement_messages += 1
            self.tally.readings += MEASUREMENTS * edge.stations
            self._want_write(edge)

    def probe(self) -> None:
        """One measurement message from the first edge, outside the run's counts."""
        edge = self.edges[0]
        body = edge.measurement(self.blocks[0])
        edge.client.publish(TOPICS.measurement(SITE, edge.edge_id), body, qos=1)
        self._want_write(edge)

    def _call(self, edge: SimulatedEdge, station: str) -> None:
        self.tally.calls += 1
        event_id, topic, body = edge.call(station)
        if not edge.online:
            edge.outbox.append((event_id, topic, body))  # kept, as the outbox keeps it
            return
        edge.client.publish(topic, body, qos=1)
        edge.unwritten.append(event_id)
        self._want_write(edge)

    def _drop(self, edge: SimulatedEdge) -> None:
        """Say offline, leave, and stay away for ``AWAY_CYCLES`` poll cycles."""
        edge.client.publish(
            TOPICS.edge_status(SITE, edge.edge_id), EDGE_OFFLINE, qos=1, retain=True
        )
        edge.away_cycles = AWAY_CYCLES
        edge.client.disconnect()
        while edge.client.socket() is not None and edge.client.want_write():
            self._check(edge, edge.client.loop_write())
        edge.online = False

    # -- the run -------------------------------------------------------------------------

    def schedule(self, start: float, duration_s: float) -> None:
        """Each edge's first cycle at its own phase of the first second; one in ten drops
        once, between 30 % and 60 % of the run."""
        count = len(self.edges)
        for edge in self.edges:
            edge.due = start + POLL_CYCLE_S * edge.index / count
            if edge.index % DROP_EVERY == 0:
                edge.drop_at = start + self.rng.uniform(0.3, 0.6) * duration_s

    def finish(self, timeout_s: float = 30.0) -> None:
        """Write what waits, then leave cleanly (no will: every edge stays online)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and any(e.client.want_write() for e in self.edges):
            self.turn(0.05)
        for edge in self.edges:
            edge.stamp_written()
            if edge.client.socket() is not None:
                edge.client.disconnect()
        self.selector.close()

    def pressed(self) -> list[str]:
        return [event_id for edge in self.edges for event_id in edge.pressed]

    def published(self) -> dict[str, float]:
        return {event_id: at for edge in self.edges for event_id, at in edge.published.items()}
