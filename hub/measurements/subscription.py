"""Measurements taken in on a path of their own, so that a flood of them never delays a call.

This runs in a process of its own (``hub/measurements/worker.py``): a second MQTT
connection (its own client id, a clean session: measurements are droppable) subscribes
to the edges' measurement topics and puts each message on a bounded queue; when the
queue is full the message is dropped and counted. A writer takes what waits, checks it
and stores it in transactions of a bounded number of rows, in a thread, then hands the
stored messages to ``on_stored``. Calls keep their own connection, their own in-flight
window at the broker, their own ingest process and their own transactions.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiomqtt
from sqlalchemy.exc import SQLAlchemyError

from contract.backoff import Backoff
from contract.mqtt import mqtt_client
from contract.wire import MeasurementEvent, Topics, utc_now
from hub.config.file import HubConfig
from hub.config.measurements import MeasurementsConfig
from hub.edges.dead_letters import DeadLetter, describe, is_outage, keep, refused_by_database
from hub.edges.ingest import Rejection
from hub.measurements.intake import MeasurementCheck
from hub.measurements.repository import MeasurementStore

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 60.0
MAX_BYTES_PER_WRITE = 512 * 1024  # of message payloads checked and stored in one go
Stored = Callable[[list[tuple[MeasurementEvent, bytes]]], None]


@dataclass
class MeasurementTally:
    """What became of measurement messages since the last ``take()``: plain counts, so
    that they cross to the hub's main process, whose metrics show them."""

    outcomes: Counter[str] = field(default_factory=Counter)  # stored, duplicate, dropped...
    rejected: Counter[str] = field(default_factory=Counter)  # by Rejection reason
    counter_readings: Counter[str] = field(default_factory=Counter)  # by CounterStep.how
    points: int = 0
    pruned: int = 0
    waiting: int = 0
    subscribed: bool = False  # a level, like ``waiting``: subscribed at the broker now

    def take(self) -> MeasurementTally:
        """The counts so far, and start again from zero (``waiting`` is a level: kept)."""
        taken = MeasurementTally(
            self.outcomes, self.rejected, self.counter_readings, self.points, self.pruned,
            self.waiting, self.subscribed,
        )  # fmt: skip
        self.outcomes, self.rejected, self.counter_readings = Counter(), Counter(), Counter()
        self.points = self.pruned = 0
        return taken


class MeasurementSubscriber:
    """Receives, queues and stores measurement messages until ``stop()``."""

    def __init__(
        self,
        *,
        config: Callable[[], HubConfig],
        store: MeasurementStore,
        on_stored: Stored | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.tally = MeasurementTally()
        self.on_stored = on_stored
        self.check = MeasurementCheck(config)
        self.topics = Topics(config().broker.topic_prefix)
        self.queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(
            maxsize=config().measurements.queue
        )
        self.connected = asyncio.Event()
        self._stopping = asyncio.Event()
        self._last_prune = 0.0

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tasks:
            writer = tasks.create_task(self._write_forever(), name="hub-measurement-writer")
            try:
                await self._receive_forever()
            finally:
                writer.cancel()

    # -- receiving ---------------------------------------------------------------------

    async def _receive_forever(self) -> None:
        backoff = Backoff(initial=0.2, cap=10.0)
        was_connected = True
        while not self._stopping.is_set():
            try:
                await self._session(backoff)
            except aiomqtt.MqttError as exc:
                if was_connected:
                    broker = self.config().broker
                    log.warning(
                        "measurements: no connection to broker %s:%s: %s; reconnecting",
                        broker.host,
                        broker.port,
                        exc,
                    )
            finally:
                self.connected.clear()
                self.tally.subscribed = False
            was_connected = False
            stopping = asyncio.create_task(self._stopping.wait())
            await asyncio.wait({stopping}, timeout=backoff.next_delay())
            stopping.cancel()

    async def _session(self, backoff: Backoff) -> None:
        config = self.config()
        identifier = f"{config.mqtt_client_id}-measurements"
        async with mqtt_client(config.broker, identifier=identifier, persistent=False) as client:
            # Hubs of one shared group each take a share, as they do of the calls: every
            # message is stored by one of them, not once by each.
            share = "" if config.shared_group is None else f"$share/{config.shared_group}/"
            await client.subscribe(share + self.topics.measurement_filter(config.site), qos=1)
            log.info(
                "measurements subscribed at broker %s:%s", config.broker.host, config.broker.port
            )
            self.connected.set()
            self.tally.subscribed = True
            backoff.reset()
            async for message in client.messages:
                if self._stopping.is_set():
                    return
                self._enqueue(message.topic.value, _body(message.payload))

    def _enqueue(self, topic: str, payload: bytes) -> None:
        try:
            self.queue.put_nowait((topic, payload))
        except asyncio.QueueFull:
            self.tally.outcomes["dropped"] += 1
        self.tally.waiting = self.queue.qsize()

    # -- writing -----------------------------------------------------------------------

    async def _write_forever(self) -> None:
        while True:
            batch = [await self.queue.get()]
            size = len(batch[0][1])
            # Bounded in bytes, not by what waits: a full queue checked at once held some
            # 200,000 readings as objects, and the process kept that memory afterwards.
            while not self.queue.empty() and size < MAX_BYTES_PER_WRITE:
                batch.append(self.queue.get_nowait())
                size += len(batch[-1][1])
            self.tally.waiting = self.queue.qsize()
            try:
                stored = await asyncio.to_thread(self.write, batch)
            except SQLAlchemyError as exc:
                # Droppable by contract: logged and counted, the next batch tries again.
                log.error("could not store %d measurement messages: %s", len(batch), exc)
                self.tally.outcomes["failed"] += len(batch)
                continue
            if self.on_stored is not None:
                self.on_stored(stored)

    def write(self, messages: list[tuple[str, bytes]]) -> list[tuple[MeasurementEvent, bytes]]:
        """Check and store ``messages`` in transactions of bounded size; what was stored
        (each event with its message's payload)."""
        config = self.config().measurements
        valid: list[MeasurementEvent] = []
        sources: dict[int, tuple[str, bytes]] = {}
        for topic, payload in messages:
            checked = self.check(topic, payload)
            if isinstance(checked, Rejection):
                self.tally.rejected[str(checked)] += 1
                self.tally.outcomes["rejected"] += 1
            else:
                valid.append(checked)
                sources[id(checked)] = (topic, payload)
        stored: list[tuple[MeasurementEvent, bytes]] = []
        for chunk in _chunks(valid, config.max_rows_per_transaction):
            applied = self._store_apart(chunk, sources, config)
            stored += [(event, sources[id(event)][1]) for event in applied]
        self._maybe_prune(utc_now())
        return stored

    def _store_apart(
        self,
        events: list[MeasurementEvent],
        sources: dict[int, tuple[str, bytes]],
        config: MeasurementsConfig,
    ) -> list[MeasurementEvent]:
        """Store ``events`` in one transaction; if the database refuses one's content,
        each alone, and the one it still refuses is set aside. Raises on an outage."""
        try:
            return self._store(events, config)
        except Exception as exc:
            if is_outage(exc):
                raise
            if len(events) > 1:
                alone = [self._store_apart([event], sources, config) for event in events]
                return [event for stored in alone for event in stored]
            topic, payload = sources[id(events[0])]
            refused = refused_by_database(exc)
            if not refused:
                log.exception("the hub could not store a measurement message on %s", topic)
            reason = Rejection.SET_ASIDE if refused else Rejection.INTERNAL
            letter = DeadLetter(
                path="measurement", topic=topic, payload=payload, reason=reason,
                detail=describe(exc), at=utc_now(), edge_id=events[0].edge_id, seq=events[0].seq,
            )  # fmt: skip
            keep(self.store.store.engine, letter)
            self.tally.rejected[str(reason)] += 1
            self.tally.outcomes["set_aside"] += 1
            return []

    def _store(
        self, events: list[MeasurementEvent], config: MeasurementsConfig
    ) -> list[MeasurementEvent]:
        started = time.monotonic()
        applied = self.store.apply(events, utc_now(), config=config)
        if self.store.shares_write_lock:
            # SQLite has one write lock for the whole file, and a call's transaction
            # waiting for it polls with growing sleeps: without a pause, one batch after
            # the next could keep it waiting for seconds. Half the time, at least, is
            # the call path's.
            time.sleep(time.monotonic() - started)
        self.tally.outcomes["stored"] += len(applied.applied)
        self.tally.outcomes["duplicate"] += applied.duplicates
        self.tally.points += applied.points
        self.tally.counter_readings.update(step.how for step in applied.counter_steps)
        return applied.applied

    def _maybe_prune(self, now: datetime) -> None:
        if now.timestamp() - self._last_prune < PRUNE_EVERY_S:
            return
        self._last_prune = now.timestamp()
        self.tally.pruned += self.store.prune(now, config=self.config().measurements)


def _chunks(events: list[MeasurementEvent], max_rows: int) -> list[list[MeasurementEvent]]:
    """Consecutive runs of events with at most ``max_rows`` readings and points (at least
    one event each)."""
    chunks: list[list[MeasurementEvent]] = []
    rows = 0
    for event in events:
        size = len(event.payload.readings) + len(event.payload.points)
        if not chunks or rows + size > max_rows:
            chunks.append([])
            rows = 0
        chunks[-1].append(event)
        rows += size
    return chunks


def _body(payload: Any) -> bytes:
    if isinstance(payload, bytes):
        return payload
    return str(payload).encode()
