"""The edge's MQTT session: the outbox sent in order, forgotten when the hub confirms it.

At every connect the edge takes a new session number (stored in the outbox) and
publishes its retained status with it; its Last Will says ``offline`` for that session.
It then sends the outbox oldest first (calls, arrivals, anomalies and faults before
measurements), at most ``window`` events unconfirmed at a time; what was stored before
this connection, or is sent again, is flagged ``historical``. An event leaves the outbox
only when the hub's confirmation names it: a broker's PUBACK says nothing about the hub.
Measurement batches are the exception: they leave on the PUBACK (droppable, and a
time-series writer beside the hub reads them too).

The session also listens: to the hub's retained status (a new hub session is a rebirth:
the edge republishes its status and sends again what was not confirmed), to its own
status (an ``offline`` put there by anyone while the edge is connected is answered with
``online`` again) and to the light commands of its stations.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import aiomqtt
from pydantic import ValidationError

from contract.backoff import Backoff
from contract.mqtt import error_text, is_connected, mqtt_client, publish_now
from contract.wire import (
    EDGE_OFFLINE,
    EDGE_ONLINE,
    Confirmation,
    LightCommand,
    Topics,
    as_historical,
    parse_session_status,
)
from edge.config import EdgeConfig
from edge.outbox import Outbox, SentUpto
from edge.recorder import Recorder
from edge.station_lights import StationLights

log = logging.getLogger(__name__)

# Publishes between two chances for the poll loop to run during a replay.
YIELD_EVERY = 50


class Delivery:
    """Publishes the outbox and handles what the hub says, until cancelled."""

    def __init__(
        self, *, config: EdgeConfig, outbox: Outbox, recorder: Recorder, lights: StationLights
    ) -> None:
        self.config = config
        self.outbox = outbox
        self.recorder = recorder
        self.lights = lights
        self.topics = Topics(config.broker.topic_prefix)
        self.window = config.outbox.window
        self.confirm_timeout_s = config.outbox.confirm_timeout_s
        self.inflight: dict[int, float] = {}  # seq -> when it was sent
        self.session = 0
        self.connected = False
        self.hub_session: int | None = None
        self.hub_online = False
        self.confirmed = 0
        self.rejected = 0
        self.sent_again = 0
        self._backlog_upto = 0
        self._resend: set[int] = set()
        # How far the outbox was sent in this session; back to the start whenever
        # something on its way must go again (``_send_again``).
        self._sent_upto = SentUpto()
        self._stopping = False

    def stop(self) -> None:
        """Say that the coming cancel is a stop, should a library swallow the cancel."""
        self._stopping = True

    @property
    def unsent(self) -> int:
        """Events in the outbox not yet on their way."""
        return len(self.outbox.pending(1, skip=self.inflight, after=self._sent_upto))

    async def run(self) -> None:
        cfg = self.config
        status_topic = self.topics.edge_status(cfg.site, cfg.edge_id)
        backoff = Backoff(initial=0.2, cap=10.0)
        was_connected = True
        while not self._stopping:
            self.session = session = self.outbox.next_session()
            client = mqtt_client(
                cfg.broker,
                identifier=f"andon-edge-{cfg.edge_id}",
                persistent=False,
                will=aiomqtt.Will(status_topic, _status(EDGE_OFFLINE, session), qos=1, retain=True),
                max_inflight=self.window,
            )
            try:
                async with client:
                    await self._subscribe(client)
                    await self._publish_status(client)
                    log.info(
                        "connected to broker %s:%s (session %d)", cfg.broker.host, cfg.broker.port,
                        session,
                    )  # fmt: skip
                    was_connected = self.connected = True
                    backoff.reset()
                    try:
                        await self._session(client)
                    except asyncio.CancelledError:
                        # A clean stop: say so, since the broker sends the will only
                        # when the connection is lost.
                        with contextlib.suppress(aiomqtt.MqttError):
                            await client.publish(
                                status_topic, _status(EDGE_OFFLINE, session), qos=1,
                                retain=True, timeout=0.5,
                            )  # fmt: skip
                        raise
            except aiomqtt.MqttError as exc:
                if self._stopping or isinstance(exc.__context__, asyncio.CancelledError):
                    # Closing the connection on a stop failed; the stop still stands
                    # (a lost one here would keep the agent running for ever).
                    raise asyncio.CancelledError from exc
                if was_connected:
                    log.warning(
                        "no connection to broker %s:%s: %s; %d events wait in the outbox",
                        cfg.broker.host,
                        cfg.broker.port,
                        exc,
                        self.outbox.pending_count(),
                    )
                was_connected = False
            finally:
                self.connected = False
                self._hub_gone()
            if self._stopping:
                raise asyncio.CancelledError
            await asyncio.sleep(backoff.next_delay())

    async def _subscribe(self, client: aiomqtt.Client) -> None:
        for topic_filter in subscriptions(self.topics, self.config):
            await client.subscribe(topic_filter, qos=1)

    async def _publish_status(self, client: aiomqtt.Client) -> None:
        topic = self.topics.edge_status(self.config.site, self.config.edge_id)
        # With a timeout: a publish caught by a dropping connection would otherwise wait
        # for its PUBACK for ever, and the session with it.
        await client.publish(
            topic, _status(EDGE_ONLINE, self.session), qos=1, retain=True, timeout=5.0
        )

    async def _session(self, client: aiomqtt.Client) -> None:
        # Everything stored until now is backlog; what was on its way goes again.
        self._backlog_upto = self.outbox.last_seq()
        self._send_again(list(self.inflight))
        self._sent_upto = SentUpto()
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._send_forever(client), name="edge-send")
                tasks.create_task(self._receive_forever(client), name="edge-receive")
        except* aiomqtt.MqttError as lost:
            # One connection, one error: reconnect as for a lone publish that failed.
            raise lost.exceptions[0] from None

    # -- sending -----------------------------------------------------------------------

    async def _send_forever(self, client: aiomqtt.Client) -> None:
        wakeup = self.recorder.wakeup
        # Not aiomqtt's publish: ``publish_now`` returns at once (aiomqtt's awaits each
        # PUBACK, at a cost that grows with the number waiting), and an event waits for
        # the hub's confirmation, not for its PUBACK. Only measurements need the PUBACK.
        awaiting_puback: list[tuple[int, Any]] = []
        while True:
            wakeup.clear()
            if not is_connected(client):
                raise aiomqtt.MqttError("the connection to the broker dropped")
            self._expire(time.monotonic())
            awaiting_puback = self._settle_published(awaiting_puback)
            room = self.window - len(self.inflight)
            entries = (
                self.outbox.pending(room, skip=self.inflight, after=self._sent_upto)
                if room > 0
                else []
            )
            if not entries:
                # Measurements the broker has are settled at the next wake-up (the next
                # poll cycle's, usually): a wake-up of its own every 50 ms cost more than
                # the settling, on an otherwise idle CPU.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        await wakeup.wait()
                continue
            now = time.monotonic()
            for count, entry in enumerate(entries, 1):  # in outbox order, as the broker gets them
                if count % YIELD_EVERY == 0:
                    await asyncio.sleep(0)  # a long replay must not hold up polling
                again = entry.seq in self._resend
                self._resend.discard(entry.seq)
                self.sent_again += again
                body = entry.body
                if again or entry.seq <= self._backlog_upto:
                    body = as_historical(body)
                info = publish_now(client, entry.topic, body, qos=1)
                if info.rc != 0:
                    raise aiomqtt.MqttError(f"publish failed: {error_text(info.rc)}")
                self.inflight[entry.seq] = now
                self._sent_upto.advance(entry)
                if entry.droppable:
                    awaiting_puback.append((entry.seq, info))
            self.recorder.published += len(entries)
            await asyncio.sleep(0)  # let the client write and read between batches

    def _settle_published(self, awaiting: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
        """Forget the measurement batches the broker has; the rest still wait."""
        if not awaiting:
            return awaiting
        done: list[int] = []
        waiting: list[tuple[int, Any]] = []
        for seq, info in awaiting:
            if info.is_published():
                done.append(seq)
            else:
                waiting.append((seq, info))
        self.outbox.forget_with_next_write(*done)
        for seq in done:
            self.inflight.pop(seq, None)
        return waiting

    def _expire(self, now: float) -> None:
        """Events the hub has not confirmed in time go again (the hub deduplicates)."""
        if not self.hub_online:
            return  # nobody to confirm them: waiting for the hub's rebirth instead
        late = [seq for seq, sent in self.inflight.items() if now - sent > self.confirm_timeout_s]
        self._send_again(late)
        if late:
            log.warning("%d events not confirmed within %g s: sending them again", len(late),
                        self.confirm_timeout_s)  # fmt: skip

    def _send_again(self, seqs: list[int]) -> None:
        """These were on their way and must go again: look through the outbox from the
        start once more (they are behind what was sent since)."""
        if not seqs:
            return
        for seq in seqs:
            del self.inflight[seq]
        self._resend.update(seqs)
        self._sent_upto = SentUpto()

    # -- receiving ---------------------------------------------------------------------

    async def _receive_forever(self, client: aiomqtt.Client) -> None:
        cfg, topics = self.config, self.topics
        ack_topic = topics.edge_ack(cfg.site, cfg.edge_id)
        hub_topic = topics.hub_status(cfg.site)
        own_topic = topics.edge_status(cfg.site, cfg.edge_id)
        async for message in client.messages:
            topic = message.topic.value
            payload = message.payload if isinstance(message.payload, bytes) else b""
            try:
                if topic == ack_topic:
                    self._confirmation(Confirmation.model_validate_json(payload))
                elif topic == hub_topic:
                    await self._hub_status(client, payload)
                elif topic == own_topic:
                    await self._own_status(client, payload)
                elif (station := topics.parse_light(topic)) is not None:
                    self.lights.hub_command(station, LightCommand.model_validate_json(payload))
            except (ValidationError, ValueError) as exc:
                log.warning("ignored a message on %s: %s", topic, str(exc).splitlines()[0])
            # A publish above (our status, at a rebirth) awaits its PUBACK in aiomqtt's
            # ``asyncio.wait_for``, which on Python 3.11 can swallow a cancel that lands as
            # the PUBACK arrives; the session's task group would then wait for this task
            # for ever, as it cancels its tasks only once.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError

    def _confirmation(self, confirmation: Confirmation) -> None:
        seqs = confirmation.seqs()
        self.outbox.mark_sent(*seqs)
        for seq in seqs:
            self.inflight.pop(seq, None)
            self._resend.discard(seq)
        for first, last in confirmation.rejected:
            log.error("the hub rejected events %d to %d for good (its log says why)", first, last)
        self.confirmed += sum(last - first + 1 for first, last in confirmation.confirmed)
        self.rejected += sum(last - first + 1 for first, last in confirmation.rejected)
        self.lights.settled(seqs, time.monotonic())
        self.recorder.wakeup.set()

    async def _hub_status(self, client: aiomqtt.Client, payload: bytes) -> None:
        status = parse_session_status(payload)
        older = self.hub_session is not None and status.session < self.hub_session
        if older and status.status == EDGE_OFFLINE:
            return  # a late will of an earlier hub session
        # An ``online`` always counts: it is the retained state now, even from a hub
        # whose clock (its session numbers) stepped back.
        rebirth = status.status == EDGE_ONLINE and status.session != self.hub_session
        if status.status == EDGE_ONLINE and self.hub_session is not None and not self.hub_online:
            rebirth = True
        self.hub_session = status.session
        self.hub_online = status.status == EDGE_ONLINE
        self.lights.hub_state(reachable=self.hub_online)
        if rebirth:
            log.info("hub online (session %d): publishing this edge's state again", status.session)
            await self._publish_status(client)
            self._send_again(list(self.inflight))
            self.recorder.wakeup.set()

    async def _own_status(self, client: aiomqtt.Client, payload: bytes) -> None:
        status = parse_session_status(payload)
        if status.status == EDGE_OFFLINE and self.connected:
            log.warning(
                "our status was set offline (session %d) while connected: publishing online",
                status.session,
            )
            await self._publish_status(client)

    def _hub_gone(self) -> None:
        self.hub_online = False
        self.lights.hub_state(reachable=False)


def subscriptions(topics: Topics, cfg: EdgeConfig) -> list[str]:
    """What an edge reads: the hub's confirmations to it, the hub's status, its own status
    (to answer a stray offline) and its line's lights."""
    return [
        topics.edge_ack(cfg.site, cfg.edge_id),
        topics.hub_status(cfg.site),
        topics.edge_status(cfg.site, cfg.edge_id),
        topics.light_filter(cfg.site, cfg.area, cfg.line),
    ]


def _status(status: str, session: int) -> str:
    return json.dumps({"status": status, "session": session})
