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

from contract.backoff import Backoff
from contract.mqtt import mqtt_client
from contract.wire import (
    EDGE_OFFLINE,
    EDGE_ONLINE,
    CallPayload,
    Event,
    Topics,
    make_event_id,
    utc_now,
)
from drivers import DeviceError, DeviceMisconfigured, Driver, Table, open_driver
from edge.config import ButtonConfig, EdgeConfig
from edge.outbox import Outbox
from rules.signals import DebouncedButton

log = logging.getLogger(__name__)


@dataclass
class WatchedButton:
    config: ButtonConfig
    signal: DebouncedButton


# The most one Modbus request may read: 2000 bits or 125 registers.
MAX_READ = {
    Table.COIL: 2000,
    Table.DISCRETE_INPUT: 2000,
    Table.HOLDING_REGISTER: 125,
    Table.INPUT_REGISTER: 125,
}


def read_spans(buttons: list[WatchedButton], max_count: int) -> list[list[WatchedButton]]:
    """Group buttons (sorted by address) so each group is one read of at most max_count."""
    spans: list[list[WatchedButton]] = []
    for button in sorted(buttons, key=lambda b: b.config.address):
        if spans and button.config.address - spans[-1][0].config.address < max_count:
            spans[-1].append(button)
        else:
            spans.append([button])
    return spans


class EdgeAgent:
    """One agent per line; ``run()`` until cancelled."""

    def __init__(self, config: EdgeConfig) -> None:
        self.config = config
        self.topics = Topics(config.broker.topic_prefix)
        self.outbox = Outbox(config.outbox.path)
        self._wakeup = asyncio.Event()
        self._refused: set[str] = set()
        self._buttons = [
            WatchedButton(b, DebouncedButton(stable_s=config.debounce_s)) for b in config.buttons
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
            groups: dict[tuple[str, Table], list[WatchedButton]] = defaultdict(list)
            for button in self._buttons:
                groups[(button.config.device, button.config.table)].append(button)
            reads = [
                (drivers[device_id], table, span)
                for (device_id, table), buttons in groups.items()
                for span in read_spans(buttons, MAX_READ[table])
            ]
            while True:
                started = time.monotonic()
                for driver, table, span in reads:
                    await self._poll_span(driver, table, span)
                elapsed = time.monotonic() - started
                await asyncio.sleep(max(0.0, self.config.poll_interval_s - elapsed))

    async def _poll_span(self, driver: Driver, table: Table, buttons: list[WatchedButton]) -> None:
        first = buttons[0].config.address
        count = buttons[-1].config.address - first + 1
        key = f"{driver.config.id} {table} {first}+{count}"
        try:
            values = await driver.read(table, first, count)
        except DeviceMisconfigured as exc:
            if len(buttons) > 1:
                # One wrongly wired button must not silence its neighbours.
                for button in buttons:
                    await self._poll_span(driver, table, [button])
                return
            # A refused read is a wiring mistake that would repeat every poll: say it
            # once until it clears (the driver already logs connection state).
            if key not in self._refused:
                log.error(
                    "cannot read the button of station %s: %s", buttons[0].config.station, exc
                )
                self._refused.add(key)
            return
        except DeviceError:
            return
        self._refused.discard(key)
        now = time.monotonic()
        for button in buttons:
            value = values[button.config.address - first]
            bit = button.config.bit
            raw = bool(value >> bit & 1) if bit is not None else bool(value)
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
