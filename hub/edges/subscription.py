"""The hub's MQTT subscription: a persistent session, so events sent while it is down wait.

The broker keeps the session (fixed client id, clean session off) and queues QoS 1
messages for it; on reconnect they are delivered and ingested. Messages that are
waiting together are applied in one transaction, and each is acknowledged only after
that commit: if the hub dies or the database fails in between, the broker delivers
them again and their event ids deduplicate them.

After each commit the hub tells every edge of the batch which of its events are now
safe (one confirmation per edge and batch, on the edge's ``ack`` topic): only then does
the edge forget them. The hub's own retained status says whether it is there, with a
session number and a Last Will, as the edges' statuses do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable

import aiomqtt
from sqlalchemy.exc import SQLAlchemyError

from contract.backoff import Backoff
from contract.mqtt import (
    acknowledge,
    acknowledge_manually,
    mqtt_client,
    publish_now,
    waiting_messages,
)
from contract.wire import EDGE_OFFLINE, EDGE_ONLINE, Topics
from hub.calls.news import CallChanges
from hub.edges.ingest import Acks, BatchReport
from hub.edges.ingest_worker import IngestFailed
from hub.process.live_config import LiveConfig
from hub.process.metrics import HubMetrics

log = logging.getLogger(__name__)

# At most this many messages share a transaction; the broker's in-flight window
# (max_inflight_messages) bounds how many can be waiting at once anyway.
MAX_BATCH = 1000


class Subscriber:
    """Consumes the site's event and edge-status topics until cancelled."""

    def __init__(
        self,
        *,
        config: LiveConfig,
        apply: Callable[[list[tuple[str, bytes]]], BatchReport],
        metrics: HubMetrics,
        changes: CallChanges | None = None,
    ) -> None:
        self.config = config
        self.apply = apply
        self.metrics = metrics
        self.changes = changes
        self.topics = Topics(config.current.broker.topic_prefix)
        self.connected = asyncio.Event()
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Ask ``run()`` to end, even if a library swallows the task's cancellation.

        On Python 3.11 ``asyncio.wait_for`` (which aiomqtt awaits its connection with)
        can lose a cancellation that lands as the awaited future completes."""
        self._stopping.set()

    async def run(self) -> None:
        backoff = Backoff(initial=0.2, cap=10.0)
        was_connected = True
        while not self._stopping.is_set():
            try:
                await self._session(backoff)
            except (SQLAlchemyError, IngestFailed) as exc:
                # Not acknowledged: the broker redelivers after we reconnect.
                log.error("store failed, messages left unacknowledged for redelivery: %s", exc)
            except aiomqtt.MqttError as exc:
                if was_connected:
                    broker = self.config.current.broker
                    log.warning(
                        "no connection to broker %s:%s: %s; reconnecting",
                        broker.host,
                        broker.port,
                        exc,
                    )
            finally:
                self.connected.clear()
                self.metrics.broker_connected.set(0)
            was_connected = False
            # Wait for the next try, or for stop(): whichever comes first.
            stopping = asyncio.create_task(self._stopping.wait())
            await asyncio.wait({stopping}, timeout=backoff.next_delay())
            stopping.cancel()

    async def _session(self, backoff: Backoff) -> None:
        config = self.config.current
        topics = self.topics
        status_topic = topics.hub_status(config.site)
        # Milliseconds since the epoch: larger at every connect, with nothing to store.
        session = time.time_ns() // 1_000_000
        will = aiomqtt.Will(status_topic, _status(EDGE_OFFLINE, session), qos=1, retain=True)
        client = mqtt_client(
            config.broker, identifier=config.mqtt_client_id, persistent=True, will=will
        )
        async with client:
            acknowledge_manually(client)  # each message only once its batch is committed
            # Hubs of one shared group each get a share of the site's messages.
            share = "" if config.shared_group is None else f"$share/{config.shared_group}/"
            for topic_filter in subscriptions(topics, config.site):
                await client.subscribe(share + topic_filter, qos=1)
            log.info("subscribed at broker %s:%s", config.broker.host, config.broker.port)
            # Online after subscribing: an edge that sees it (re)publishes its state, and
            # what it sends from then on reaches this session.
            await client.publish(status_topic, _status(EDGE_ONLINE, session), qos=1, retain=True)
            self.connected.set()
            self.metrics.broker_connected.set(1)
            self.metrics.broker_sessions.inc()
            backoff.reset()
            # Committed but not yet acknowledged: acknowledged while the next batch is
            # applied, so that the two overlap, or at once when nothing else waits.
            committed: list[aiomqtt.Message] = []
            try:
                async for first in client.messages:
                    if self._stopping.is_set():
                        return  # unacknowledged: the broker delivers it again next time
                    batch = [first, *waiting_messages(client, MAX_BATCH - 1)]
                    bodies = [(m.topic.value, _body(m.payload)) for m in batch]
                    # The database may wait on a lock: keep the event loop (the API) free.
                    applying = asyncio.ensure_future(asyncio.to_thread(self.apply, bodies))
                    acknowledge(client, committed)
                    committed = []
                    report = await applying
                    _confirm(client, topics, config.site, report.acks)
                    report.count_in(self.metrics)
                    if self.changes is not None:
                        self.changes.announce(*report.changes)
                    committed = batch
                    if not len(client.messages):
                        acknowledge(client, committed)
                        committed = []
            finally:
                acknowledge(client, committed)
                if self._stopping.is_set():
                    with contextlib.suppress(aiomqtt.MqttError):
                        await client.publish(
                            status_topic, _status(EDGE_OFFLINE, session), qos=1, retain=True,
                            timeout=0.5,
                        )  # fmt: skip


def subscriptions(topics: Topics, site: str) -> list[str]:
    """What the hub's call path reads: every station's events, in both layouts (edges
    before the edge id was in the topic use the old one), and every edge's status and
    own events. Measurements come on a connection of their own."""
    return [
        topics.station_event_filter(site),
        topics.event_filter(site),
        topics.edge_status_filter(site),
        topics.edge_event_filter(site),
    ]


def _status(status: str, session: int) -> str:
    return json.dumps({"status": status, "session": session})


def _confirm(client: aiomqtt.Client, topics: Topics, site: str, acks: Acks) -> None:
    """Tell each edge of a committed batch which of its events are safe.

    Without waiting for the broker: the next batch does not wait for these to be
    acknowledged by the broker (an edge whose confirmation is lost sends the events
    again; the hub deduplicates and confirms them then)."""
    for edge_id, (confirmed, rejected) in acks.items():
        body = json.dumps({"confirmed": confirmed, "rejected": rejected}, separators=(",", ":"))
        publish_now(client, topics.edge_ack(site, edge_id), body, qos=1)


def _body(payload: object) -> bytes:
    if isinstance(payload, bytes):
        return payload
    return str(payload).encode()
