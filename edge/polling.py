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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from contract.wire import MeasuredValue
from drivers import DeviceMisconfigured, DeviceUnavailable, ModbusUnitDriver, Table
from edge.config import ButtonConfig, MeasurementConfig
from edge.plan import Read
from rules.buttons import HoldClassifier
from rules.registers import ByteOrder, ValueType, decode, scaled
from rules.signals import DebouncedButton

log = logging.getLogger(__name__)


@dataclass
class ButtonTag:
    """A button, its debounce state, and its short/long state if it has a long press."""

    config: ButtonConfig
    signal: DebouncedButton
    hold: HoldClassifier | None = None

    device = property(lambda self: self.config.device)
    table = property(lambda self: self.config.table)
    address = property(lambda self: self.config.address)
    width = 1


@dataclass
class MeasurementTag:
    """A measurement and the value it last published (for the deadband)."""

    config: MeasurementConfig
    last_published: MeasuredValue | None = None

    device = property(lambda self: self.config.device)
    table = property(lambda self: self.config.table)
    address = property(lambda self: self.config.address)
    width = property(lambda self: self.config.width)


AnyTag = ButtonTag | MeasurementTag


@dataclass(frozen=True)
class Reading:
    """A measurement read in this cycle: its raw (decoded) and its scaled value."""

    tag: MeasurementTag
    raw: MeasuredValue
    value: MeasuredValue


@dataclass(frozen=True)
class ReadFailure:
    device: str
    table: Table
    address: int
    count: int
    error: str


class PollSink(Protocol):
    """Where a poller delivers what it read."""

    def button(self, tag: ButtonTag, pressed: bool, now: float) -> None: ...

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
    fresh: list[Reading] = field(default_factory=list)
    _refused: set[str] = field(default_factory=set)
    _slots: dict[int, tuple[Read[AnyTag], list[Slot]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._slots = {id(read): (read, _slots(read)) for read in self.reads}

    async def run(self) -> None:
        """Poll until ``stop`` is set or the task is cancelled."""
        while not self.stop.is_set():
            started = time.monotonic()
            for read in self.reads:
                if read.next_at <= started:
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
        # A read split up after a refusal is not one of ``reads``: its slots are not kept.
        slots = self._slots.get(id(read), (read, []))
        tags = slots[1] if slots[0] is read else _slots(read)
        button, fresh = self.sink.button, self.fresh
        for tag, offset, decoder in tags:
            if isinstance(tag, ButtonTag):
                button(tag, decoder(values, offset), now)
            else:
                raw = decoder(values, offset)
                config = tag.config
                fresh.append(Reading(tag, raw, scaled(raw, config.scale, config.offset)))


# How one tag's value comes out of the values of its read, at its offset there.
Decoder = Callable[[Sequence[int], int], Any]
Slot = tuple[AnyTag, int, Decoder]


def _slots(read: Read[AnyTag]) -> list[Slot]:
    """Each tag of ``read`` with its offset in the read and its decoder, worked out once
    per read rather than once per tag and cycle (the poll loop's hot path)."""
    return [(tag, tag.address - read.start, _decoder(tag)) for tag in read.tags]


def _decoder(tag: AnyTag) -> Decoder:
    if isinstance(tag, ButtonTag):
        bit = tag.config.bit
        if bit is None:
            return lambda values, offset: bool(values[offset])
        return lambda values, offset: bool(values[offset] >> bit & 1)
    config = tag.config
    one_word = config.width == 1 and config.byte_order in (ByteOrder.ABCD, ByteOrder.CDAB)
    if not config.table.is_bits and one_word and config.type is ValueType.UINT16:
        # What ``decode`` gives for one register read in order, without building bytes.
        return lambda values, offset: values[offset] & 0xFFFF
    if not config.table.is_bits and one_word and config.type is ValueType.INT16:
        return lambda values, offset: ((values[offset] & 0xFFFF) ^ 0x8000) - 0x8000
    width = config.width
    return lambda values, offset: decode_tag(config, list(values[offset : offset + width]))


def decode_tag(config: MeasurementConfig, words: list[int]) -> MeasuredValue:
    """The raw value of a measurement from the words (or the one bit) read for it."""
    if config.table.is_bits:
        return bool(words[0])
    if config.type is ValueType.BOOL:
        return bool(words[0])
    return decode(words, config.type, config.byte_order)


def _single(read: Read[AnyTag], tag: AnyTag) -> Read[AnyTag]:
    return Read(read.device, read.table, tag.address, tag.width, read.every_s, [tag])


def _failure(read: Read[AnyTag], exc: Exception) -> ReadFailure:
    return ReadFailure(read.device, read.table, read.start, read.count, str(exc))
