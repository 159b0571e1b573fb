"""Listen to the devices that push: serial button stations and scanners.

A station's press raises a call exactly as a Modbus button does (``Recorder.raise_call``),
and its press and release set the Sparkplug face's ``<station>/call/<call_type>`` metric
as a polled button's do (``Recorder.held``). A scan sets the part (serial, or lot when the
station's ``lot`` names the scanner) of the station the scanner is bound to, or, from the
station's ``badge`` scanner, marks the responder whose badge it is arrived (an arrival
event carrying the badge). Whether each device is heard from is checked a few times a
second and reported as ``device_status`` events, as for polled devices.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from drivers import (
    ButtonEvent,
    DeviceUnavailable,
    ScanEvent,
    SerialButtonStationConfig,
    SerialButtonStationDriver,
    SerialScannerConfig,
    SerialScannerDriver,
)
from edge.config import ButtonConfig, EdgeConfig
from edge.recorder import Recorder

log = logging.getLogger(__name__)

ONLINE_CHECK_S = 0.25
SerialDriver = SerialButtonStationDriver | SerialScannerDriver


class SerialListener:
    """The serial devices of one configuration, entered for one polling session."""

    def __init__(self, config: EdgeConfig, recorder: Recorder) -> None:
        self.recorder = recorder
        self.drivers: list[SerialDriver] = []
        for device in config.devices:
            if isinstance(device, SerialButtonStationConfig):
                self.drivers.append(SerialButtonStationDriver(device))
            elif isinstance(device, SerialScannerConfig):
                self.drivers.append(SerialScannerDriver(device))
        self._buttons: dict[tuple[str, str, str], ButtonConfig] = {
            (b.device, b.station, b.button): b for b in config.buttons if b.button is not None
        }
        self._lot_scanners = {station.lot for station in config.stations if station.lot}
        self._badge_scanners = {station.badge for station in config.stations if station.badge}
        self._unknown: set[tuple[str, str, str]] = set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Open every serial device and listen to it until the block ends."""
        async with contextlib.AsyncExitStack() as stack:
            for driver in self.drivers:
                await stack.enter_async_context(driver)
            async with asyncio.TaskGroup() as tasks:
                listeners = [
                    tasks.create_task(self._listen(d), name=f"edge-listen {d.config.id}")
                    for d in self.drivers
                ]
                if self.drivers:
                    listeners.append(tasks.create_task(self._watch(), name="edge-serial-status"))
                try:
                    yield
                finally:
                    for task in listeners:
                        task.cancel()

    async def _listen(self, driver: SerialDriver) -> None:
        device = driver.config.id
        while True:
            try:
                async for event in driver.events():
                    if isinstance(event, ButtonEvent):
                        self._press(device, event)
                    else:
                        self._scan(device, event)
            except DeviceUnavailable as exc:
                # The driver reopens the port with its own backoff; keep listening.
                log.warning("serial device %s: %s", device, exc)
                self.recorder.device_state(device, up=False, reason=str(exc))

    def _press(self, device: str, event: ButtonEvent) -> None:
        key = (device, event.station, event.button)
        button = self._buttons.get(key)
        if button is None:
            if event.pressed and key not in self._unknown:
                self._unknown.add(key)
                log.warning(
                    "station %s of %s pressed button %r, which no button entry names",
                    event.station,
                    device,
                    event.button,
                )
            return
        self.recorder.held(button, held=event.pressed)
        if event.pressed:
            self.recorder.press(button, time.monotonic())

    def _scan(self, device: str, event: ScanEvent) -> None:
        if device in self._badge_scanners:
            # A badge is a person, not a part: no log of the number itself.
            seq = self.recorder.raise_arrival(event.station, badge=event.code)
            log.info("badge scanned at station %s: arrival event %s", event.station, seq)
            return
        if device in self._lot_scanners:
            self.recorder.set_part(event.station, lot=event.code)
        else:
            self.recorder.set_part(event.station, serial=event.code)
        log.info("scan at station %s: %s", event.station, event.code)

    async def _watch(self) -> None:
        while True:
            for driver in self.drivers:
                up = (
                    driver.online
                    if isinstance(driver, SerialButtonStationDriver)
                    else (driver.port_open)
                )
                self.recorder.device_state(driver.config.id, up=up)
            await asyncio.sleep(ONLINE_CHECK_S)
