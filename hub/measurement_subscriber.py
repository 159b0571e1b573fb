"""Measurements taken in on a path of their own, so that a flood of them never delays a call.

A second MQTT connection (its own client id, a clean session: measurements are
droppable) subscribes to the edges' measurement topics and puts each message on a
bounded queue; when the queue is full the message is dropped and counted. A writer takes
what waits, checks it, and stores it in transactions of a bounded number of rows, in a
thread, then announces what it stored (``MeasurementNews``). Calls keep their own
connection, their own in-flight window at the broker and their own ingest process.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import aiomqtt
from sqlalchemy.exc import SQLAlchemyError

from contract.backoff import Backoff
from contract.mqtt import mqtt_client
from contract.wire import MeasurementEvent, Topics, utc_now
from hub.ingest import Rejection
from hub.live_config import LiveConfig
from hub.measurement_intake import MeasurementCheck, MeasurementMetrics
from hub.measurement_news import MeasurementNews
from hub.measurement_store import MeasurementStore
from hub.metrics import HubMetrics

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 60.0


class MeasurementSubscriber:
    """Receives, queues and stores measurement messages until ``stop()``."""

    def __init__(
        self,
        *,
        config: LiveConfig,
        store: MeasurementStore,
        metrics: HubMetrics,
        news: MeasurementNews,
    ) -> None:
        self.config = config
        self.store = store
        self.metrics = metrics
        self.own = MeasurementMetrics(metrics.registry)
        self.news = news
        self.check = MeasurementCheck(lambda: config.current)
        self.topics = Topics(config.current.broker.topic_prefix)
        self.queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(
            maxsize=config.current.measurements.queue
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
                    log.warning("measurement connection lost: %s; reconnecting", exc)
            finally:
                self.connected.clear()
            was_connected = False
            stopping = asyncio.create_task(self._stopping.wait())
            await asyncio.wait({stopping}, timeout=backoff.next_delay())
            stopping.cancel()

    async def _session(self, backoff: Backoff) -> None:
        config = self.config.current
        identifier = f"{config.mqtt_client_id}-measurements"
        async with mqtt_client(config.broker, identifier=identifier, persistent=False) as client:
            await client.subscribe(self.topics.measurement_filter(config.site), qos=1)
            self.connected.set()
            backoff.reset()
            async for message in client.messages:
                if self._stopping.is_set():
                    return
                self._enqueue(message.topic.value, _body(message.payload))

    def _enqueue(self, topic: str, payload: bytes) -> None:
        try:
            self.queue.put_nowait((topic, payload))
        except asyncio.QueueFull:
            self.own.received.labels("dropped").inc()
        self.own.waiting.set(self.queue.qsize())

    # -- writing -----------------------------------------------------------------------

    async def _write_forever(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while not self.queue.empty():
                batch.append(self.queue.get_nowait())
            self.own.waiting.set(self.queue.qsize())
            try:
                stored = await asyncio.to_thread(self.write, batch)
            except SQLAlchemyError as exc:
                # Droppable by contract: logged and counted, the next batch tries again.
                log.error("could not store %d measurement messages: %s", len(batch), exc)
                self.own.received.labels("failed").inc(len(batch))
                continue
            self.news.announce(*stored)

    def write(self, messages: list[tuple[str, bytes]]) -> list[MeasurementEvent]:
        """Check and store ``messages`` in transactions of bounded size; what was stored."""
        config = self.config.current.measurements
        valid: list[MeasurementEvent] = []
        for topic, payload in messages:
            checked = self.check(topic, payload)
            if isinstance(checked, Rejection):
                self.metrics.rejected.labels(checked).inc()
                self.own.received.labels("rejected").inc()
            else:
                valid.append(checked)
        stored: list[MeasurementEvent] = []
        for chunk in _chunks(valid, config.max_rows_per_transaction):
            applied = self.store.apply(chunk, utc_now(), config=config)
            self.own.received.labels("stored").inc(len(applied.applied))
            self.own.received.labels("duplicate").inc(applied.duplicates)
            self.own.points.inc(applied.points)
            for step in applied.counter_steps:
                self.own.counter_steps.labels(step.how).inc()
            stored += applied.applied
        self._maybe_prune(utc_now())
        return stored

    def _maybe_prune(self, now: datetime) -> None:
        if now.timestamp() - self._last_prune < PRUNE_EVERY_S:
            return
        self._last_prune = now.timestamp()
        self.own.pruned.inc(self.store.prune(now, config=self.config.current.measurements))


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
