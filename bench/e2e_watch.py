"""What the end-to-end benchmark watches, each sighting stamped with ``time.time()`` (the
browser stamps its own with the same clock: one machine).

- ``BrokerWatch``: a subscriber on the broker that sees each call event leave an edge,
  the hub's confirmation of it (sent only after the hub committed the call: the call is
  stored) and the hub's light command for the station.
- ``NotificationReceiver``: the local webhook receiver the escalation policy sends to.
- ``CoilWatch``: polls, every millisecond, the coils a press is waiting for on the
  simulated PLCs (in-process reads of the servers' datastores).

Every sighting goes into one ``Sightings``, whose ``wait`` wakes when a new one comes in
or the benchmark is stopping.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from bench.e2e_plant import PREFIX, SITE, Broker, Plc
from contract.mqtt import PahoClient, paho_client
from contract.wire import Confirmation, LightCommand, Topics

T = TypeVar("T")
StationKey = tuple[str, str]  # line, station


class Stopping(Exception):
    """The benchmark is stopping (Ctrl-C, or a part failed): abandon the press."""


class Sightings:
    """Every sighting, by what it is of; one condition wakes whoever waits."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.stopping = False
        self.events: dict[StationKey, list[tuple[float, str, int]]] = defaultdict(list)
        self.stored: dict[tuple[str, int], float] = {}  # (edge id, seq) -> when
        self.light_commands: dict[StationKey, list[tuple[float, str]]] = defaultdict(list)
        self.notifications: dict[int, float] = {}  # call id -> first message's receipt
        self.board: dict[StationKey, list[tuple[float, str]]] = defaultdict(list)

    def note(self, record: Callable[[Sightings], object]) -> None:
        with self.changed:
            record(self)
            self.changed.notify_all()

    def wait(self, probe: Callable[[], T | None], deadline: float) -> T | None:
        """``probe()``'s first value that is not None, or None at ``deadline`` (monotonic)."""
        with self.changed:
            while True:
                if self.stopping:
                    raise Stopping
                found = probe()
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(min(left, 0.5))

    def stop(self) -> None:
        with self.changed:
            self.stopping = True
            self.changed.notify_all()


class BrokerWatch:
    """Call events, the hub's confirmations and its light commands, as they pass."""

    def __init__(self, broker: Broker, sightings: Sightings) -> None:
        self.topics = Topics(PREFIX)
        self.sightings = sightings
        self.client = paho_client("e2e-watch")
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        root = self.topics.root
        for topic in (
            self.topics.station_event_filter(SITE),
            self.topics.edge_ack(SITE, "+"),
            f"{root}/{SITE}/+/+/+/light",
        ):
            self.client.subscribe(topic, qos=1)
        self.client.loop_start()

    def _on_message(self, client: PahoClient, userdata: object, message: Any) -> None:
        del client, userdata
        at = time.time()
        parts = message.topic.split("/")
        if parts[-1] == "ack":
            edge = parts[-2]
            seqs = Confirmation.model_validate_json(message.payload).seqs()
            self.sightings.note(lambda s: [s.stored.setdefault((edge, q), at) for q in seqs])
        elif parts[-1] == "light":
            state = LightCommand.model_validate_json(message.payload).state
            key = (parts[-3], parts[-2])
            self.sightings.note(lambda s: s.light_commands[key].append((at, state)))
        elif (where := self.topics.parse_station_event(message.topic)) is not None:
            body = json.loads(message.payload)
            if body.get("kind") == "call":
                key, sent = (where[2], where[3]), (at, body["edge_id"], int(body["seq"]))
                self.sightings.note(lambda s: s.events[key].append(sent))

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class NotificationReceiver:
    """A webhook receiver on loopback: notes when each call's first message arrives."""

    def __init__(self, sightings: Sightings) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                at = time.time()
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                call = int(body["call_id"])
                sightings.note(lambda s: s.notifications.setdefault(call, at))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Each message is a sighting; no log line."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="e2e-receiver")
        self.thread.start()

    def hook(self) -> str:
        """The signed webhook URL of the responder's phone (the secret is a throwaway)."""
        return f"andon+http://e2e-secret@127.0.0.1:{self.port}/responder"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class CoilWatch:
    """Polls the coils presses wait for; each wait gives the first time.time() it was seen."""

    POLL_S = 0.001

    def __init__(self, sightings: Sightings) -> None:
        self.sightings = sightings
        self._wanted: dict[int, tuple[Plc, int, bool, list[float]]] = {}
        self._next = 0
        self._lock = threading.Lock()
        self._any = threading.Event()  # something is wanted: idle, the thread only waits
        self.thread = threading.Thread(target=self._poll, name="e2e-coils", daemon=True)
        self.thread.start()

    def expect(self, plc: Plc, address: int, value: bool) -> list[float]:
        """Start watching for coil ``address`` to read ``value``; the list gets its time."""
        seen: list[float] = []
        with self._lock:
            self._next += 1
            self._wanted[self._next] = (plc, address, value, seen)
            self._any.set()
        return seen

    def _poll(self) -> None:
        while not self.sightings.stopping:
            if not self._any.wait(0.5):
                continue
            with self._lock:
                wanted = list(self._wanted.items())
            for key, (plc, address, value, seen) in wanted:
                try:
                    now = plc.coil(address)
                except TimeoutError:  # the PLC's thread starved on a busy machine: again
                    continue
                except RuntimeError:  # the PLC stopped: the benchmark is ending
                    return
                if now == value:
                    self._seen(key, seen, time.time())
            time.sleep(self.POLL_S)

    def _seen(self, key: int, seen: list[float], at: float) -> None:
        with self._lock:
            del self._wanted[key]
            if not self._wanted:
                self._any.clear()
        self.sightings.note(lambda _: seen.append(at))
