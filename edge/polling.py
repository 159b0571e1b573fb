"""Poll the devices of one physical link in turn, at the poll interval, until told to stop.

Links poll side by side, each in its own task, so a slow bus never slows another. The
loop stops within one device call of a stop request or a cancellation, whatever the
driver underneath did with the cancellation: pymodbus awaits responses with
``asyncio.wait_for``, which on Python 3.11 can swallow a cancel that lands as the
response arrives, so after every device call the loop checks both the stop event and
its task's ``cancelling()`` count itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from drivers import DeviceMisconfigured, DeviceUnavailable, ModbusUnitDriver, Table
from drivers.modbus_plan import Read
from edge.poll_timing import LateCycles
from edge.read_decoding import ReadDecoder, Readings, decode_tag, read_decoder
from edge.tags import AnyTag, ButtonTag, MeasurementTag

__all__ = [
    "AnyTag", "ButtonTag", "Cycle", "LinkPoller", "MeasurementTag", "PollSink", "ReadFailure",
    "Readings", "decode_tag",
]  # fmt: skip

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadFailure:
    device: str
    table: Table | None  # None: a device whose addresses are strings (OPC UA)
    address: int | str
    count: int
    error: str


class Cycle(Protocol):
    """A cycle's readings, from a poller (its link's name) or a subscribed device."""

    @property
    def name(self) -> str: ...

    @property
    def fresh(self) -> list[Readings]: ...


class PollSink(Protocol):
    """Where a poller delivers what it read."""

    def button(self, tag: ButtonTag, pressed: bool, now: float) -> None:
        """A button's sample: given when its contact changed since the last cycle, or
        while it is not ``settled`` (a debounce or a long press under way), and at the
        first read; a button at rest whose contact did not change is left out."""

    def device_checked(self, driver: ModbusUnitDriver) -> None: ...

    def cycle_done(self, poller: LinkPoller) -> None:
        """The poller finished a cycle; its readings are in ``poller.fresh``."""


@dataclass
class LinkPoller:
    """The reads of every device on one link, in order, once per poll interval."""

    name: str
    reads: list[Read[AnyTag]]
    drivers: dict[str, ModbusUnitDriver]
    interval_s: float
    sink: PollSink
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    cycles: int = 0
    fresh: list[Readings] = field(default_factory=list)
    _refused: set[str] = field(default_factory=set)
    _decoders: dict[int, tuple[Read[AnyTag], ReadDecoder]] = field(default_factory=dict)
    late: LateCycles = field(init=False)

    def __post_init__(self) -> None:
        self._decoders = {id(read): (read, read_decoder(read)) for read in self.reads}
        self.late = LateCycles(self.name, self.interval_s)

    async def run(self) -> None:
        """Poll until ``stop`` is set or the task is cancelled."""
        due = time.monotonic()
        while not self.stop.is_set():
            started = time.monotonic()
            self.late.started(due, started)
            due = started + self.interval_s
            # A read due before the middle of this cycle is this cycle's: an event loop's
            # timer may wake the loop a little before ``due`` (libuv, under uvloop, reads
            # its clock once per loop iteration), and ``read.next_at <= started`` alone
            # then left every other cycle without reads.
            soon = started + self.interval_s / 2
            for read in self.reads:
                if read.next_at <= soon:
                    read.next_at = started + read.every_s
                    await self._read(read)
            self.cycles += 1
            self.sink.cycle_done(self)
            self.fresh.clear()
            delay = self.interval_s - (time.monotonic() - started)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, delay)):
                    await self.stop.wait()

    async def poll_once(self) -> list[ReadFailure]:
        """Every read once, whatever its interval; the failures, each tag's on its own."""
        failures: list[ReadFailure] = []
        for read in self.reads:
            await self._read(read, failures)
        self.sink.cycle_done(self)
        self.fresh.clear()
        return failures

    async def _read(self, read: Read[AnyTag], failures: list[ReadFailure] | None = None) -> None:
        driver = self.drivers[read.device]
        key = f"{read.device} {read.table} {read.start}+{read.count}"
        try:
            values = await driver.read(read.table, read.start, read.count)
        except DeviceMisconfigured as exc:
            self._raise_if_stopping()
            if len(read.tags) > 1:
                # One wrongly wired tag must not silence its neighbours.
                for tag in read.tags:
                    await self._read(_single(read, tag), failures)
                return
            self._report_refusal(key, read, exc)
            if failures is not None:
                failures.append(_failure(read, exc))
            return
        except DeviceUnavailable as exc:
            self._raise_if_stopping()
            self.sink.device_checked(driver)
            if failures is not None:
                failures.append(_failure(read, exc))
            return
        self._raise_if_stopping()
        self._refused.discard(key)
        self.sink.device_checked(driver)
        self._deliver(read, values)

    def _raise_if_stopping(self) -> None:
        task = asyncio.current_task()
        if self.stop.is_set() or (task is not None and task.cancelling()):
            raise asyncio.CancelledError

    def _report_refusal(self, key: str, read: Read[AnyTag], exc: Exception) -> None:
        # A refused read is a wiring mistake that would repeat every poll: say it once
        # until it clears (the driver already logs connection state).
        if key in self._refused:
            return
        self._refused.add(key)
        tag = read.tags[0]
        if isinstance(tag, ButtonTag):
            log.error("cannot read the button of station %s: %s", tag.config.station, exc)
        else:
            log.error("cannot read measurement %s: %s", tag.config.name, exc)

    def _deliver(self, read: Read[AnyTag], values: Sequence[int]) -> None:
        now = time.monotonic()
        # A read split up after a refusal is not one of ``reads``: its decoder is not kept.
        kept = self._decoders.get(id(read))
        decoder = kept[1] if kept is not None and kept[0] is read else read_decoder(read)
        samples = decoder.button_samples(values)
        if samples:
            button = self.sink.button
            for _, tag, pressed in samples:
                button(tag, pressed, now)
            decoder.note_settled(samples)
        self.fresh += decoder.measurements(values)


def _single(read: Read[AnyTag], tag: AnyTag) -> Read[AnyTag]:
    return Read(read.device, read.table, tag.address, tag.width, read.every_s, [tag])


def _failure(read: Read[AnyTag], exc: Exception) -> ReadFailure:
    return ReadFailure(read.device, read.table, read.start, read.count, str(exc))
