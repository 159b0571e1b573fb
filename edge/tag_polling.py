"""Poll the devices read by address strings (S7 PLCs, Logix controllers), one task each.

A ``TagPoller`` reads its device's buttons and due measurements every poll interval in
one ``read_tags`` call (the driver groups them into as few requests as its protocol
allows) and hands them to the same sink as a Modbus link's poller: button samples go
through the recorder's debounce and long press, measurements through the deadband, SPC
and one measurement message per cycle. A button at rest whose contact did not change is
left out, as a Modbus poller leaves it out.

While the device does not answer nothing is delivered (no stale value is repeated, no
press invented); its state goes to the sink (a ``device_status`` event), and the driver
tries again on the backoff schedule every device keeps (``contract.backoff.Outage``).
A read the device refuses (a wrong address) is read again tag by tag, so one wrongly
wired tag does not silence its neighbours; it is logged once until it clears.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from drivers import (
    DeviceMisconfigured,
    DeviceUnavailable,
    PolledTagDriver,
    Value,
    is_tag_polled,
    open_tag_driver,
)
from edge.config import EdgeConfig
from edge.poll_timing import LateCycles
from edge.polling import Cycle, ReadFailure
from edge.read_decoding import Readings
from edge.tags import ButtonTag, MeasurementTag
from rules.buttons import HoldClassifier
from rules.registers import scaled
from rules.signals import DebouncedButton

log = logging.getLogger(__name__)


class TagPollSink(Protocol):
    """Where a tag poller delivers what it read (the recorder, or ``--test``'s collector)."""

    def button(self, tag: ButtonTag, pressed: bool, now: float) -> None: ...

    def device_state(self, device: str, *, up: bool, reason: str = "") -> None: ...

    def cycle_done(self, poller: Cycle) -> None: ...


@dataclass
class TagPoller:
    """The buttons and measurements of one device, read together each poll interval."""

    device: str
    driver: PolledTagDriver
    interval_s: float
    sink: TagPollSink
    buttons: dict[str, list[ButtonTag]] = field(default_factory=dict)
    measurements: dict[str, list[MeasurementTag]] = field(default_factory=dict)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    cycles: int = 0
    fresh: list[Readings] = field(default_factory=list)
    _contacts: dict[str, bool] = field(default_factory=dict)
    _due: dict[int, float] = field(default_factory=dict)
    _refused: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        """The name its cycles carry (a Modbus poller's is its link's)."""
        return f"tags:{self.device}"

    async def run(self) -> None:
        """Poll until ``stop`` is set or the task is cancelled."""
        late = LateCycles(self.name, self.interval_s)
        due = time.monotonic()
        while not self.stop.is_set():
            started = time.monotonic()
            late.started(due, started)
            due = started + self.interval_s
            await self.cycle(started)
            delay = self.interval_s - (time.monotonic() - started)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, delay)):
                    await self.stop.wait()

    async def poll_once(self) -> list[ReadFailure]:
        """Every tag once, whatever its interval; the failures, each tag's on its own."""
        failures: list[ReadFailure] = []
        await self.cycle(time.monotonic(), failures, everything=True)
        return failures

    async def cycle(
        self, started: float, failures: list[ReadFailure] | None = None, *, everything: bool = False
    ) -> None:
        """Read the buttons and the measurements due (before the middle of this cycle: a
        timer may wake the loop a little early), deliver them, end the cycle."""
        soon = started + self.interval_s / 2
        taken = [
            tag
            for tags in self.measurements.values()
            for tag in tags
            if everything or self._due.get(id(tag), 0.0) <= soon
        ]
        for tag in taken:
            self._due[id(tag)] = started + (tag.config.every_s or self.interval_s)
        addresses = list(dict.fromkeys([*self.buttons, *(str(t.config.address) for t in taken)]))
        values = await self._read(addresses, failures) if addresses else {}
        self._raise_if_stopping()
        self._deliver(values, taken)
        self.cycles += 1
        self.sink.cycle_done(self)
        self.fresh.clear()

    async def _read(
        self, addresses: list[str], failures: list[ReadFailure] | None
    ) -> dict[str, Value]:
        try:
            values = await self.driver.read_tags(addresses)
        except DeviceUnavailable as exc:
            self._raise_if_stopping()
            self._state(up=False, reason=str(exc))
            if failures is not None:
                failures += [ReadFailure(self.device, None, a, 1, str(exc)) for a in addresses]
            return {}
        except DeviceMisconfigured as exc:
            self._raise_if_stopping()
            self._state(up=True)
            if len(addresses) > 1:
                values = {}
                for address in addresses:
                    values |= await self._read([address], failures)
                return values
            self._report_refusal(addresses[0], exc)
            if failures is not None:
                failures.append(ReadFailure(self.device, None, addresses[0], 1, str(exc)))
            return {}
        self._state(up=True)
        self._refused.difference_update(addresses)
        return values

    def _deliver(self, values: Mapping[str, Value], taken: list[MeasurementTag]) -> None:
        now = time.monotonic()
        button = self.sink.button
        for address, tags in self.buttons.items():
            value = values.get(address)
            if value is None:
                continue
            pressed = bool(value)
            changed = self._contacts.get(address) != pressed
            self._contacts[address] = pressed
            for tag in tags:
                if changed or not tag.settled(pressed):
                    button(tag, pressed, now)
        present = [tag for tag in taken if str(tag.config.address) in values]
        if present:
            raws = [values[str(tag.config.address)] for tag in present]
            scaled_values = [
                scaled(raw, tag.config.scale, tag.config.offset)
                for tag, raw in zip(present, raws, strict=True)
            ]
            self.fresh.append(Readings(present, raws, scaled_values))

    def _state(self, *, up: bool, reason: str = "") -> None:
        if not up:
            self._contacts.clear()  # the first read after the outage is delivered
        self.sink.device_state(self.device, up=up, reason=reason)

    def _report_refusal(self, address: str, exc: Exception) -> None:
        # A wiring mistake repeats every poll: say it once until it clears.
        if address not in self._refused:
            self._refused.add(address)
            log.error("device %s refused to read %s: %s", self.device, address, exc)

    def _raise_if_stopping(self) -> None:
        # As a Modbus poller: a cancellation that a library's wait_for swallowed still stops.
        task = asyncio.current_task()
        if self.stop.is_set() or (task is not None and task.cancelling()):
            raise asyncio.CancelledError


def tag_pollers(config: EdgeConfig, sink: TagPollSink) -> list[TagPoller]:
    """A poller (with its driver, not yet connected) per polled device read by address."""
    devices = [d for d in config.devices if is_tag_polled(d)]
    pollers: dict[str, TagPoller] = {}
    for device in devices:
        types = {
            str(m.address): (m.type.value, m.length)
            for m in config.measurements
            if m.device == device.id and "type" in m.model_fields_set
        }
        driver = open_tag_driver(device, types)
        pollers[device.id] = TagPoller(device.id, driver, config.poll_interval_s, sink)
    for b in config.buttons:
        poller = pollers.get(b.device)
        if poller is not None and isinstance(b.address, str):
            hold = None if b.long_press is None else HoldClassifier(hold_s=b.long_press.hold_s)
            tag = ButtonTag(b, DebouncedButton(stable_s=config.debounce_s), hold)
            poller.buttons.setdefault(b.address, []).append(tag)
    for m in config.measurements:
        poller = pollers.get(m.device)
        if poller is not None and isinstance(m.address, str):
            poller.measurements.setdefault(m.address, []).append(MeasurementTag(m))
    return list(pollers.values())


@contextlib.asynccontextmanager
async def tag_polling(
    config: EdgeConfig, sink: TagPollSink
) -> AsyncIterator[Mapping[str, PolledTagDriver]]:
    """Poll every device of ``config`` read by address until the block ends; their
    drivers (for the lights) by device id. A device back from an outage is the
    recorder's to tell (``Recorder.on_device_back``)."""
    pollers = tag_pollers(config, sink)
    drivers = {poller.device: poller.driver for poller in pollers}
    try:
        async with asyncio.TaskGroup() as tasks:
            running = []
            for poller in pollers:
                running.append(tasks.create_task(poller.run(), name=f"edge-poll {poller.name}"))
            try:
                yield drivers
            finally:
                for poller, task in zip(pollers, running, strict=True):
                    poller.stop.set()
                    task.cancel()
    finally:
        for driver in drivers.values():
            await driver.disconnect()
