"""The edge as a Sparkplug B 3.0 edge node: a second MQTT connection beside our own.

Our own connection has its own Will (the edge's status), so the node keeps a connection
of its own whose Will is its NDEATH. Each connection takes the next ``bdSeq`` (0 to 255,
kept in the edge's state directory across restarts), publishes NBIRTH (seq 0) and a
DBIRTH per device, then DDATA with the metrics that changed (report by exception: the
recorder hands over only what passed its deadbands), ``seq`` rising by one per message
and wrapping after 255. An NCMD ``Node Control/Rebirth`` is answered with the births at
once, on the same connection. With a primary host, births wait for its retained STATE
to say it is online, and go out again each time it comes back.

Calls keep our own contract (QoS 1, outbox, confirmations); this is an extra face.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

import aiomqtt

from contract.backoff import Backoff
from contract.mqtt import mqtt_client
from contract.sparkplug.payloads import DataType, Metric, PayloadInvalid, Value, decode, encode
from contract.sparkplug.topics import MessageType, Topic, parse_state, state_topic
from edge.config import EdgeConfig
from edge.sparkplug_metrics import MetricPlan, call_metric, fitted, plan_metrics

log = logging.getLogger(__name__)

BD_SEQ = "bdSeq"
REBIRTH = "Node Control/Rebirth"
SEQ_WRAP = 256
BD_SEQ_FILE = "sparkplug-bdseq"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class SparkplugNode:
    """Publishes the values handed to it (``measured``, ``button``, ``light``,
    ``machine_state``) as one Sparkplug edge node; ``run()`` until cancelled."""

    def __init__(self, config: EdgeConfig, *, state_dir: Path) -> None:
        sparkplug = config.sparkplug
        if sparkplug is None:
            raise ValueError("the configuration has no 'sparkplug' section")
        self.config = config
        self.group_id = sparkplug.group_id
        self.node_id = sparkplug.edge_node_id or config.edge_id
        self.host_id = sparkplug.primary_host_id
        self.plan: MetricPlan = plan_metrics(config)
        self.values: dict[str, dict[str, Value]] = {}
        self._released(self.plan)
        self.bd_seq_path = state_dir / BD_SEQ_FILE
        self.bd_seq = -1
        self.births = 0
        self.connected = False
        self._seq = 0
        self._changed: dict[str, dict[str, Value]] = {}
        self._wakeup = asyncio.Event()
        self._rebirth_due = True
        self._born = False
        self._host_online = self.host_id is None
        self._host_seen = -1  # the newest STATE's timestamp

    def topic(self, message_type: MessageType, device: str | None = None) -> str:
        return str(Topic(self.group_id, message_type, self.node_id, device))

    # -- values (called from the recorder and the lights) ------------------------------

    def configure(self, config: EdgeConfig) -> None:
        """A reload: new metrics go out with new births."""
        plan = plan_metrics(config)
        if plan.devices != self.plan.devices:
            self._rebirth_due = True
            self._wakeup.set()
        self.plan = plan
        self._released(plan)

    def _released(self, plan: MetricPlan) -> None:
        for device, name in plan.calls:
            self.values.setdefault(device, {}).setdefault(name, False)

    def measured(self, measurement: str, value: Value) -> None:
        where = self.plan.measurements.get(measurement)
        if where is not None:
            self._set(*where, value)

    def button(self, device: str, station: str, call_type: str, *, held: bool) -> None:
        self._set(device, call_metric(station, call_type), held)

    def light(self, station: str, colour: str) -> None:
        device = self.plan.lights.get(station)
        if device is not None:
            self._set(device, f"{station}/light", colour)

    def machine_state(self, station: str, state: str) -> None:
        """A station's machine state (running, down, ...) changed: its ``<station>/state``
        metric, on the device of the tag its first rule reads."""
        device = self.plan.states.get(station)
        if device is not None:
            self._set(device, f"{station}/state", state)

    def _set(self, device: str, name: str, value: Value) -> None:
        datatype = self.plan.devices.get(device, {}).get(name)
        if datatype is None:
            return
        value = fitted(value, datatype)
        current = self.values.setdefault(device, {})
        if name in current and current[name] == value:
            return
        current[name] = value
        self._changed.setdefault(device, {})[name] = value
        self._wakeup.set()

    # -- the connection ------------------------------------------------------------------

    def next_bd_seq(self) -> int:
        """The next connection's bdSeq: one more than the last one (kept in a file)."""
        try:
            last = int(self.bd_seq_path.read_text().strip())
        except FileNotFoundError:
            last = -1
        except (OSError, ValueError) as exc:
            log.warning("%s unreadable (%s): bdSeq starts again at 0", self.bd_seq_path, exc)
            last = -1
        bd_seq = (last + 1) % SEQ_WRAP
        self.bd_seq_path.parent.mkdir(parents=True, exist_ok=True)
        spare = self.bd_seq_path.with_suffix(".new")
        spare.write_text(f"{bd_seq}\n")
        spare.replace(self.bd_seq_path)
        return bd_seq

    def _death(self) -> bytes:
        metric = Metric(BD_SEQ, DataType.INT64, self.bd_seq)
        return encode([metric], timestamp=now_ms(), seq=None)

    async def run(self) -> None:
        broker = self.config.broker
        backoff = Backoff(initial=0.2, cap=10.0)
        while True:
            self.bd_seq = self.next_bd_seq()
            death_topic = self.topic(MessageType.NDEATH)
            client = mqtt_client(
                broker,
                identifier=f"andon-sparkplug-{self.config.edge_id}",
                persistent=False,
                will=aiomqtt.Will(death_topic, self._death(), qos=1, retain=False),
            )
            try:
                async with client:
                    backoff.reset()
                    self.connected = True
                    log.info("Sparkplug node %s/%s connected", self.group_id, self.node_id)
                    try:
                        await self._session(client)
                    except asyncio.CancelledError:
                        # A clean stop: the broker sends the Will only for a lost connection.
                        with contextlib.suppress(aiomqtt.MqttError):
                            await client.publish(death_topic, self._death(), qos=1, timeout=0.5)
                        raise
            except aiomqtt.MqttError as exc:
                if self.connected:
                    log.warning("Sparkplug node lost the broker: %s", exc)
            finally:
                self.connected = self._born = False
            await asyncio.sleep(backoff.next_delay())

    async def _session(self, client: aiomqtt.Client) -> None:
        self._host_online = self.host_id is None
        self._rebirth_due = True
        self._wakeup.set()
        await client.subscribe(self.topic(MessageType.NCMD), qos=1)
        if self.host_id is not None:
            await client.subscribe(state_topic(self.host_id), qos=1)
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._receive(client), name="sparkplug-receive")
            tasks.create_task(self._publish_forever(client), name="sparkplug-publish")

    async def _receive(self, client: aiomqtt.Client) -> None:
        commands = self.topic(MessageType.NCMD)
        async for message in client.messages:
            raw = message.payload
            if not isinstance(raw, bytes):
                continue
            if message.topic.matches(commands):
                self._command(raw)
            elif self.host_id is not None and message.topic.matches(state_topic(self.host_id)):
                self._host_state(raw)

    def _command(self, raw: bytes) -> None:
        try:
            payload = decode(raw)
        except PayloadInvalid as exc:
            log.warning("NCMD refused: %s", exc)
            return
        if any(m.name == REBIRTH and m.value is True for m in payload.metrics):
            log.info("rebirth asked for")
            self._rebirth_due = True
            self._wakeup.set()

    def _host_state(self, raw: bytes) -> None:
        state = parse_state(raw)
        if state is None:
            log.warning("STATE of host %s refused: not the 3.0 JSON form", self.host_id)
            return
        if state.timestamp < self._host_seen:
            return  # an older STATE than one already seen
        self._host_seen = state.timestamp
        if state.online and not self._host_online:
            log.info("primary host %s online: births", self.host_id)
            self._rebirth_due = True
            self._wakeup.set()
        elif not state.online:
            log.warning("primary host %s offline: nothing is published until it is back",
                        self.host_id)  # fmt: skip
            self._born = False
        self._host_online = state.online

    async def _publish_forever(self, client: aiomqtt.Client) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if not self._host_online:
                continue
            if self._rebirth_due or not self._born:
                await self._births(client)
            elif self._changed:
                await self._data(client)

    async def _births(self, client: aiomqtt.Client) -> None:
        self._changed.clear()  # the births carry every current value
        self._rebirth_due = False
        self._seq = 0
        now = now_ms()
        node = [
            Metric(BD_SEQ, DataType.INT64, self.bd_seq, now),
            Metric(REBIRTH, DataType.BOOLEAN, False, now),
        ]
        await self._publish(client, self.topic(MessageType.NBIRTH), node, now)
        for device, datatypes in self.plan.devices.items():
            if not datatypes:
                continue
            values = self.values.get(device, {})
            metrics = [Metric(n, t, values.get(n), now) for n, t in datatypes.items()]
            await self._publish(client, self.topic(MessageType.DBIRTH, device), metrics, now)
        self._born = True
        self.births += 1

    async def _data(self, client: aiomqtt.Client) -> None:
        changed, self._changed = self._changed, {}
        now = now_ms()
        for device, values in changed.items():
            datatypes = self.plan.devices.get(device, {})
            metrics = [Metric(n, datatypes[n], v, now) for n, v in values.items() if n in datatypes]
            if metrics:
                await self._publish(client, self.topic(MessageType.DDATA, device), metrics, now)

    async def _publish(
        self, client: aiomqtt.Client, topic: str, metrics: list[Metric], now: int
    ) -> None:
        payload = encode(metrics, timestamp=now, seq=self._seq)
        self._seq = (self._seq + 1) % SEQ_WRAP
        await client.publish(topic, payload, qos=0)
