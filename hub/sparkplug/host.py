"""The hub's Sparkplug B host application: its STATE, the nodes' sessions, their liveness.

A connection of its own (client id ``<client_id>-sparkplug``) whose Will is the hub's
STATE ``{"online": false}`` (retained); once connected it publishes ``{"online": true}``
(retained, newer timestamp) and subscribes to the node messages of the configured
groups. Each node's births, seq and deaths are kept by ``NodeSessions``: a seq gap or
data before a birth is answered with an NCMD ``Node Control/Rebirth``; an NBIRTH puts the
node online and an NDEATH of its current bdSeq offline on ``/api/edges``, as
``<group_id>/<edge_node_id>``.

Metrics mapped to measurements, in a message taken in order (births included), go
through the measurement path's check and store (``hub/sparkplug/intake.py``), those of a
data message charted first where ``sparkplug.spc`` binds them (``hub/sparkplug/charts.py``);
those mapped to calls, and the charts' anomalies, go through the calls' own intake
(``hub/sparkplug/calls.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import aiomqtt
from sqlalchemy.exc import SQLAlchemyError

from contract.backoff import Backoff
from contract.mqtt import mqtt_client
from contract.sparkplug.payloads import (
    DataType,
    Metric,
    Payload,
    PayloadInvalid,
    decode,
    encode,
)
from contract.sparkplug.topics import (
    MessageType,
    Topic,
    group_filter,
    parse_topic,
    state_payload,
    state_topic,
)
from contract.wire import utc_now
from hub.calls.news import CallChanges
from hub.calls.repository import Store
from hub.config.file import HubConfig
from hub.config.sparkplug import SparkplugHostConfig
from hub.edges.liveness import set_edge_status
from hub.measurements.news import MeasurementNews
from hub.measurements.repository import MeasurementStore
from hub.sparkplug.call_metrics import load_call_metrics
from hub.sparkplug.calls import SparkplugCalls
from hub.sparkplug.intake import SparkplugMeasurements
from hub.sparkplug.sessions import NodeKey, NodeSessions, Verdict

log = logging.getLogger(__name__)

REBIRTH = "Node Control/Rebirth"
BD_SEQ = "bdSeq"
MAX_PAYLOAD_BYTES = 256 * 1024
# A node is an edge on /api/edges (``<group>/<node>``), whose ids are paged by up to 64
# characters: a node whose id makes a longer one is refused, not stored.
MAX_EDGE_ID = 64


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class SparkplugHost:
    """Runs until cancelled; ``rebirths_asked`` counts the NCMDs it sent."""

    def __init__(
        self,
        *,
        config: Callable[[], HubConfig],
        database: Store,
        news: MeasurementNews | None = None,
        changes: CallChanges | None = None,
    ) -> None:
        self.config = config
        started_with = config().sparkplug
        if started_with is None:
            raise ValueError("the hub's file has no 'sparkplug' section")
        self._started_with = started_with
        self.database = database
        self.news = news
        self.changes = changes
        self.measurements = SparkplugMeasurements(
            config=config, store=MeasurementStore(database), news=news
        )
        self.calls = SparkplugCalls(config=config, store=database)
        self.sessions = NodeSessions()
        self.rebirths_asked = 0
        self._asked: set[NodeKey] = set()  # asked once until the node is born again
        self.connected = asyncio.Event()

    def _section(self) -> SparkplugHostConfig:
        """The section (one a reload took away stays until the hub restarts)."""
        section = self.config().sparkplug or self._started_with
        self._started_with = section
        return section

    async def run(self) -> None:
        kept = await asyncio.to_thread(load_call_metrics, self.database)
        self.calls.edges.last.update(kept)
        backoff = Backoff(initial=0.2, cap=10.0)
        while True:
            section, hub = self._section(), self.config()
            topic = state_topic(section.host_id)
            will = aiomqtt.Will(
                topic, state_payload(online=False, timestamp=now_ms()), qos=1, retain=True
            )
            client = mqtt_client(
                hub.broker, identifier=f"{hub.mqtt_client_id}-sparkplug", persistent=False,
                will=will,
            )  # fmt: skip
            try:
                async with client:
                    await self._session(client, section)
            except aiomqtt.MqttError as exc:
                log.warning("Sparkplug host: no connection to the broker: %s", exc)
            except asyncio.CancelledError:
                with contextlib.suppress(aiomqtt.MqttError):
                    offline = state_payload(online=False, timestamp=now_ms())
                    await client.publish(topic, offline, qos=1, retain=True, timeout=0.5)
                raise
            finally:
                self.connected.clear()
            await asyncio.sleep(backoff.next_delay())

    async def _session(self, client: aiomqtt.Client, section: SparkplugHostConfig) -> None:
        for group in section.groups:
            await client.subscribe(group_filter(group), qos=0)
        online = state_payload(online=True, timestamp=now_ms())
        await client.publish(state_topic(section.host_id), online, qos=1, retain=True)
        self.connected.set()
        log.info("Sparkplug host %s online", section.host_id)
        async for message in client.messages:
            raw = message.payload
            if isinstance(raw, bytes) and len(raw) <= MAX_PAYLOAD_BYTES:
                await self._received(client, message.topic.value, raw)

    async def _received(self, client: aiomqtt.Client, text: str, raw: bytes) -> None:
        topic = parse_topic(text)
        if topic is None or topic.message_type in (MessageType.NCMD, MessageType.DCMD):
            return
        edge_id = f"{topic.group_id}/{topic.edge_node_id}"
        if len(edge_id) > MAX_EDGE_ID or not edge_id.isprintable():
            log.warning(
                "Sparkplug message on %r refused: not a printable edge id of at most %d "
                "characters", text[:300], MAX_EDGE_ID,
            )  # fmt: skip
            return
        node: NodeKey = (topic.group_id, topic.edge_node_id)
        try:
            payload = decode(raw)
        except PayloadInvalid as exc:
            log.warning("Sparkplug message on %s refused: %s", text, exc)
            return
        bd_seq = _bd_seq(payload.by_name().get(BD_SEQ))
        if topic.message_type is MessageType.NDEATH:
            if bd_seq is not None and self.sessions.death(node, bd_seq=bd_seq):
                await self._status(node, "offline", bd_seq)
            return
        if topic.message_type is MessageType.NBIRTH:
            if bd_seq is None:
                log.warning("NBIRTH on %s without a bdSeq from 0 to 255: ignored", text)
                return
            verdict = self.sessions.birth(node, bd_seq=bd_seq, seq=payload.seq or 0)
            if payload.seq is None:
                verdict = Verdict.REBIRTH
            if verdict is Verdict.TAKE:
                self._asked.discard(node)
                await self._status(node, "online", bd_seq)
        else:
            verdict = self.sessions.message(node, seq=payload.seq)
        if verdict is Verdict.REBIRTH:
            await self._ask_rebirth(client, node)
        elif verdict is Verdict.TAKE:
            data = topic.message_type in (MessageType.NDATA, MessageType.DDATA)
            await self._take(node, topic.device_id, payload, text, data=data)

    async def _take(
        self, node: NodeKey, device: str | None, payload: Payload, text: str, *, data: bool
    ) -> None:
        """The mapped metrics of a message taken in order (``data``: NDATA or DDATA)."""
        stamp = self.sessions.stamp(node)
        rose = [] if stamp is None else self.calls.rising(node, device, payload.metrics, stamp)
        if rose or self.calls.edges.changed:
            try:
                report = await asyncio.to_thread(self.calls.raise_calls, node, rose)
            except SQLAlchemyError as exc:
                log.error("could not raise the calls of %s/%s: %s", *node, exc)
            else:
                if self.changes is not None:
                    self.changes.announce(*report.changes)
        metrics, timestamp = payload.metrics, payload.timestamp
        taken = self.measurements.message(node, device, metrics, timestamp, data=data)
        if taken.events:
            try:
                stored = await asyncio.to_thread(self.measurements.take, taken.events, text)
            except SQLAlchemyError as exc:
                log.error("could not store Sparkplug measurements of %s/%s: %s", *node, exc)
                stored = []
            if self.news is not None:
                for event in stored:
                    self.news.announce(event)
        if taken.anomalies:
            try:
                await asyncio.to_thread(self.calls.raise_anomalies, node, taken.anomalies, taken.ts)
            except SQLAlchemyError as exc:
                log.error("could not keep the anomalies of %s/%s: %s", *node, exc)

    async def _status(self, node: NodeKey, status: str, bd_seq: int) -> None:
        edge_id = f"{node[0]}/{node[1]}"
        changed = await asyncio.to_thread(
            set_edge_status, self.database, edge_id, status, bd_seq, utc_now()
        )
        if changed:
            log.info("Sparkplug node %s %s (bdSeq %d)", edge_id, status, bd_seq)

    async def _ask_rebirth(self, client: aiomqtt.Client, node: NodeKey) -> None:
        if node in self._asked:
            return
        self._asked.add(node)
        log.info("Sparkplug node %s/%s: asking for a rebirth", *node)
        command = encode([Metric(REBIRTH, DataType.BOOLEAN, True)], timestamp=now_ms(), seq=None)
        topic = str(Topic(node[0], MessageType.NCMD, node[1]))
        await client.publish(topic, command, qos=0)
        self.rebirths_asked += 1


def _bd_seq(metric: Metric | None) -> int | None:
    """A bdSeq metric's value, when it is one (0 to 255)."""
    if metric is None or isinstance(metric.value, bool) or not isinstance(metric.value, int):
        return None
    return metric.value if 0 <= metric.value < 256 else None
