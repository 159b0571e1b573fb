"""The edge agent: poll buttons, store presses in the outbox, publish the outbox over MQTT.

Two tasks run side by side: polling never waits for the broker (presses go to the
durable outbox), and publishing drains the outbox in order whenever the broker is up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from dataclasses import dataclass

import aiomqtt

from andon.config.models import ButtonConfig, EdgeConfig
from andon.mqtt import mqtt_client
from andon.wire import EDGE_OFFLINE, EDGE_ONLINE, CallPayload, Event, Topics, make_event_id, utc_now
from drivers import DeviceError, ModbusTcpDriver, Table, open_driver
from drivers.backoff import Backoff
from edge.outbox import Outbox
from rules.signals import DebouncedButton

log = logging.getLogger(__name__)


@dataclass
class _WatchedButton:
    config: ButtonConfig
    signal: DebouncedButton


class EdgeAgent:
    """One agent per line; ``run()`` until cancelled."""

    def __init__(self, config: EdgeConfig) -> None:
        self.config = config
        self.topics = Topics(config.broker.topic_prefix)
        self.outbox = Outbox(config.outbox.path)
        self._wakeup = asyncio.Event()
        self._buttons = [
            _WatchedButton(b, DebouncedButton(stable_s=config.debounce_s)) for b in config.buttons
        ]

    async def run(self) -> None:
        """Start publishing first, then polling; stop both on cancellation."""
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._publish_forever(), name="edge-publish")
                tasks.create_task(self._poll_forever(), name="edge-poll")
        finally:
            self.outbox.close()

    # -- polling -----------------------------------------------------------------------

    async def _poll_forever(self) -> None:
        async with contextlib.AsyncExitStack() as stack:
            drivers = {
                device.id: await stack.enter_async_context(open_driver(device))
                for device in self.config.devices
            }
            groups: dict[tuple[str, Table], list[_WatchedButton]] = defaultdict(list)
            for button in self._buttons:
                groups[(button.config.device, button.config.table)].append(button)
            while True:
                started = time.monotonic()
                for (device_id, table), buttons in groups.items():
                    await self._poll_group(drivers[device_id], table, buttons)
                elapsed = time.monotonic() - started
                await asyncio.sleep(max(0.0, self.config.poll_interval_s - elapsed))

    async def _poll_group(
        self, driver: ModbusTcpDriver, table: Table, buttons: list[_WatchedButton]
    ) -> None:
        first = min(b.config.address for b in buttons)
        last = max(b.config.address for b in buttons)
        try:
            values = await driver.read(table, first, last - first + 1)
        except DeviceError as exc:
            log.debug("poll failed: %s", exc)
            return
        now = time.monotonic()
        for button in buttons:
            value = values[button.config.address - first]
            raw = (
                bool(value >> button.config.bit & 1)
                if button.config.bit is not None
                else bool(value)
            )
            if button.signal.update(raw, now):
                self._record_press(button.config)

    def _record_press(self, button: ButtonConfig) -> None:
        cfg = self.config
        topic = self.topics.event(cfg.site, cfg.area, cfg.line, button.station)

        def message(seq: int) -> tuple[str, str]:
            event = Event(
                event_id=make_event_id(cfg.edge_id, seq),
                edge_id=cfg.edge_id,
                seq=seq,
                ts=utc_now(),
                kind="call",
                site=cfg.site,
                area=cfg.area,
                line=cfg.line,
                station=button.station,
                payload=CallPayload(call_type=button.call_type),
            )
            return topic, event.model_dump_json()

        seq = self.outbox.add(message)
        log.info("press at station %s (%s): event %s", button.station, button.call_type, seq)
        self._wakeup.set()

    # -- publishing --------------------------------------------------------------------

    async def _publish_forever(self) -> None:
        cfg = self.config
        status_topic = self.topics.edge_status(cfg.site, cfg.edge_id)
        backoff = Backoff(initial=0.2, cap=10.0)
        was_connected = True
        while True:
            client = mqtt_client(
                cfg.broker,
                identifier=f"andon-edge-{cfg.edge_id}",
                persistent=False,
                will=aiomqtt.Will(status_topic, EDGE_OFFLINE, qos=1, retain=True),
            )
            try:
                async with client:
                    await client.publish(status_topic, EDGE_ONLINE, qos=1, retain=True)
                    log.info("connected to broker %s:%s", cfg.broker.host, cfg.broker.port)
                    was_connected = True
                    backoff.reset()
                    try:
                        await self._drain(client)
                    except asyncio.CancelledError:
                        # A clean stop: say so, since the broker sends the will only
                        # when the connection is lost.
                        await client.publish(
                            status_topic, EDGE_OFFLINE, qos=1, retain=True, timeout=2
                        )
                        raise
            except aiomqtt.MqttError as exc:
                if was_connected:
                    log.warning(
                        "broker connection lost: %s; %d events wait in the outbox",
                        exc,
                        self.outbox.pending_count(),
                    )
                was_connected = False
                await asyncio.sleep(backoff.next_delay())

    async def _drain(self, client: aiomqtt.Client) -> None:
        while True:
            self._wakeup.clear()
            for entry in self.outbox.pending():
                # publish() with QoS 1 returns once the broker acknowledged (PUBACK).
                await client.publish(entry.topic, entry.body, qos=1)
                self.outbox.mark_sent(entry.seq)
            if not self.outbox.pending_count():
                await self._wakeup.wait()
