"""Listen to the devices that push changes: OPC UA servers, through one subscription each.

A button's change goes to the recorder as it arrives, as a polled button's sample does,
but with no debounce (``debounce_s`` is for polled contacts: a server reports a change
it has already seen). A button with a long press is given its level again every poll
interval while it is held, so the long press counts the moment its hold time is reached.

Measurements keep their polled meaning: each is sampled every ``every_s`` (default: the
poll interval) from the last value its server sent, and goes through the same cycle as
a poller's readings (deadband, SPC, one measurement message per cycle). While the server
is away nothing is sampled: its last values are forgotten, not repeated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from contract.wire import MeasuredValue
from drivers import OpcUaConfig, TagDriver, Value
from drivers.tags import Monitored
from edge.config import ButtonConfig, EdgeConfig, MeasurementConfig
from edge.polling import Cycle
from edge.read_decoding import Readings
from edge.recorder import Recorder
from edge.tags import ButtonTag, MeasurementTag
from rules.buttons import HoldClassifier
from rules.registers import scaled
from rules.signals import DebouncedButton

log = logging.getLogger(__name__)


class SubscriptionSink(Protocol):
    """Where a subscribed device's presses, readings and state go (the recorder)."""

    def button(self, tag: ButtonTag, pressed: bool, now: float) -> None: ...

    def device_state(self, device: str, *, up: bool, reason: str = "") -> None: ...

    def cycle_done(self, poller: Cycle) -> None: ...


@dataclass
class SubscribedDevice:
    """One OPC UA server's buttons and measurements: the driver's ``ChangeSink``."""

    device: OpcUaConfig
    recorder: SubscriptionSink
    interval_s: float
    buttons: dict[str, list[ButtonTag]] = field(default_factory=dict)
    measurements: dict[str, list[MeasurementTag]] = field(default_factory=dict)
    fresh: list[Readings] = field(default_factory=list)
    latest: dict[str, MeasuredValue] = field(default_factory=dict)
    _refused: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        """The name its cycles carry (a poller's is its link's)."""
        return f"opcua:{self.device.id}"

    def items(self) -> list[Monitored]:
        """What to monitor: every address once, at the fastest sampling asked for it."""
        asked: dict[str, tuple[float, str | None]] = {}
        for address, buttons in self.buttons.items():
            asked[address] = (_sampling(b.config for b in buttons), None)
        for address, tags in self.measurements.items():
            configs = [tag.config for tag in tags]
            given = {c.type.value for c in configs if "type" in c.model_fields_set}
            interval = min(asked.get(address, (float("inf"),))[0], _sampling(configs))
            asked[address] = (interval, given.pop() if len(given) == 1 else None)
        return [Monitored(a, interval, kind) for a, (interval, kind) in asked.items()]

    def changed(self, address: str, value: Value | None) -> None:
        now = time.monotonic()
        if value is not None:
            for tag in self.buttons.get(address, ()):
                self.recorder.button(tag, bool(value), now)
        if address in self.measurements:
            if value is None:
                self.latest.pop(address, None)
            else:
                self.latest[address] = value

    def state(self, *, up: bool, reason: str) -> None:
        if not up:
            self.latest.clear()
        self.recorder.device_state(self.device.id, up=up, reason=reason)

    def refused(self, address: str, reason: str) -> None:
        if address in self._refused:
            return
        self._refused.add(address)
        log.error("device %s refused to monitor %s: %s", self.device.id, address, reason)

    async def sample(self) -> None:
        """Sample the measurements every poll interval, each at its own ``every_s``."""
        due: dict[int, float] = {}
        tags = [tag for group in self.measurements.values() for tag in group]
        held = [tag for group in self.buttons.values() for tag in group if tag.hold is not None]
        while True:
            now = time.monotonic()
            taken = [tag for tag in tags if due.get(id(tag), 0.0) <= now + self.interval_s / 2]
            readings = self.readings(taken)
            for tag in taken:
                due[id(tag)] = now + (tag.config.every_s or self.interval_s)
            if readings is not None:
                self.fresh.append(readings)
            # Every cycle, as a poller's: the recorder's due writes go out with it.
            self.recorder.cycle_done(self)
            self.fresh.clear()
            for button in held:
                if button.signal.level:
                    self.recorder.button(button, True, now)
            await asyncio.sleep(self.interval_s)

    def readings(self, taken: list[MeasurementTag]) -> Readings | None:
        """The readings of ``taken`` from the last values the server sent (None: none yet)."""
        present = [tag for tag in taken if str(tag.config.address) in self.latest]
        if not present:
            return None
        raws = [self.latest[str(tag.config.address)] for tag in present]
        values = [
            scaled(raw, tag.config.scale, tag.config.offset)
            for tag, raw in zip(present, raws, strict=True)
        ]
        return Readings(present, raws, values)


def _sampling(configs: Iterable[ButtonConfig | MeasurementConfig]) -> float:
    """The fastest sampling asked for (0: the fastest the server grants)."""
    intervals = [c.sampling_interval_ms for c in configs]
    return min((i for i in intervals if i is not None), default=0.0)


def subscribed_devices(config: EdgeConfig, recorder: SubscriptionSink) -> list[SubscribedDevice]:
    """A SubscribedDevice per OPC UA server of ``config``, with its buttons and measurements."""
    devices = {
        d.id: SubscribedDevice(device=d, recorder=recorder, interval_s=config.poll_interval_s)
        for d in config.devices
        if isinstance(d, OpcUaConfig)
    }
    for button in config.buttons:
        device = devices.get(button.device)
        if device is not None and isinstance(button.address, str):
            device.buttons.setdefault(button.address, []).append(_button_tag(button))
    for measurement in config.measurements:
        device = devices.get(measurement.device)
        if device is not None and isinstance(measurement.address, str):
            tag = MeasurementTag(measurement)
            device.measurements.setdefault(measurement.address, []).append(tag)
    return list(devices.values())


def _button_tag(button: ButtonConfig) -> ButtonTag:
    hold = None if button.long_press is None else HoldClassifier(hold_s=button.long_press.hold_s)
    return ButtonTag(button, DebouncedButton(stable_s=0.0), hold)


@contextlib.asynccontextmanager
async def subscribing(
    config: EdgeConfig, recorder: Recorder
) -> AsyncIterator[Mapping[str, TagDriver]]:
    """Keep every OPC UA server of ``config`` subscribed until the block ends; its drivers
    (for the lights) by device id. A server back from an outage is the recorder's to tell
    (``Recorder.on_device_back``)."""
    devices = subscribed_devices(config, recorder)
    if not devices:
        yield {}
        return
    # Loaded only for a configuration with OPC UA servers: the OPC UA stack takes some
    # 25 MB of an edge's memory.
    from drivers.opcua import OpcUaDriver

    drivers = {device.device.id: OpcUaDriver(device.device) for device in devices}
    async with asyncio.TaskGroup() as tasks:
        running = []
        for device in devices:
            driver = drivers[device.device.id]
            name = device.device.id
            running.append(tasks.create_task(driver.run(device.items(), device), name=name))
            running.append(tasks.create_task(device.sample(), name=f"{name} sampling"))
        try:
            yield drivers
        finally:
            for task in running:
                task.cancel()
