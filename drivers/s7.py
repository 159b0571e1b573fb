"""A Siemens S7 PLC read and written through python-snap7's asyncio client.

Tags are addresses in STEP 7 syntax (``drivers/s7_config.py``). ``read_tags`` groups
them: neighbouring values of one area or data block (at most ``MAX_GAP_BYTES`` apart)
become one area read, as long as it fits the PDU the PLC granted, so a cycle of
hundreds of tags takes a few requests. Values are decoded as STEP 7 stores them
(big-endian; a STRING with its maximum and actual length bytes) by ``snap7.util``.

The connection is opened on first use and again after a failure, on the schedule every
polled device uses (``contract.backoff.Outage``): tried again within a second however
long the PLC is away, the outage logged when it starts, then at growing intervals.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self, TypeVar

from snap7.async_client import AsyncClient
from snap7.error import (
    S7ConnectionError,
    S7Error,
    S7PacketLostError,
    S7StalePacketError,
    S7TimeoutError,
)
from snap7.type import Area
from snap7.util import (
    get_bool,
    get_dint,
    get_int,
    get_real,
    get_string,
    get_udint,
    get_uint,
    set_bool,
    set_dint,
    set_int,
    set_real,
    set_string,
    set_udint,
    set_uint,
)

from contract.backoff import Backoff, Outage, Report
from drivers.errors import DeviceMisconfigured, DeviceUnavailable
from drivers.s7_config import S7Address, S7Config, byte_count, parse_address, value_type
from drivers.tags import Value

log = logging.getLogger(__name__)

T = TypeVar("T")

# Reading a few bytes nobody asked for is cheaper than another request.
MAX_GAP_BYTES = 32
# The sets of addresses whose grouping is kept (one per mix of read intervals).
MAX_PLANS = 64
# The bytes of a read response's PDU that are not data (snap7's own reckoning).
PDU_OVERHEAD = 18
# The bytes of a write request's PDU that are not data (snap7's own reckoning).
WRITE_OVERHEAD = 35

AREAS = {"DB": Area.DB, "I": Area.PE, "Q": Area.PA, "M": Area.MK}
READERS: dict[str, Callable[[bytearray, int], Value]] = {
    "int16": get_int,
    "uint16": get_uint,
    "int32": get_dint,
    "uint32": get_udint,
    "float32": get_real,
    "string": get_string,
}
WRITERS: dict[str, Callable[[bytearray, int, int], object]] = {
    "int16": set_int,
    "uint16": set_uint,
    "int32": set_dint,
    "uint32": set_udint,
}
# What a lost or broken connection raises underneath (the stale and lost packets are
# protocol errors to snap7, but say the stream is out of step).
_TRANSPORT_ERRORS = (
    OSError, TimeoutError, S7ConnectionError, S7TimeoutError, S7StalePacketError,
    S7PacketLostError,
)  # fmt: skip


@dataclass(frozen=True)
class S7Tag:
    """One address as configured, where it is, what it holds and how many bytes."""

    text: str
    where: S7Address
    kind: str
    length: int | None
    size: int


@dataclass
class AreaRead:
    """One request: ``size`` bytes from ``start`` of an area (or data block)."""

    area: str
    db: int
    start: int
    size: int
    tags: list[S7Tag] = field(default_factory=list)


def plan_reads(
    tags: Sequence[S7Tag], max_bytes: int, max_gap: int = MAX_GAP_BYTES
) -> list[AreaRead]:
    """The fewest area reads covering ``tags``: neighbours of one area (at most
    ``max_gap`` bytes apart) merged while the read stays within ``max_bytes`` (a value
    longer than that is one read of its own)."""
    reads: list[AreaRead] = []
    ordered = sorted(tags, key=lambda t: (t.where.area, t.where.db, t.where.byte))
    for tag in ordered:
        where, last = tag.where, reads[-1] if reads else None
        end = where.byte + tag.size
        if (
            last is not None
            and (last.area, last.db) == (where.area, where.db)
            and where.byte <= last.start + last.size + max_gap
            and max(end, last.start + last.size) - last.start <= max_bytes
        ):
            last.size = max(end, last.start + last.size) - last.start
            last.tags.append(tag)
            continue
        reads.append(AreaRead(where.area, where.db, where.byte, tag.size, [tag]))
    return reads


class S7Driver:
    """One S7 CPU: a ``TagDriver``. ``types`` gives the type (and a string's length) of
    the addresses whose size alone does not say it; others read as their size's default."""

    def __init__(
        self,
        config: S7Config,
        types: Mapping[str, tuple[str, int | None]] | None = None,
        *,
        backoff: Backoff | None = None,
    ) -> None:
        self.config = config
        self.connects = 0
        self.requests = 0
        self._types = dict(types or {})
        self._tags: dict[str, S7Tag] = {}
        self._plans: dict[tuple[str, ...], list[AreaRead]] = {}
        self._client: AsyncClient | None = None
        self._connecting = asyncio.Lock()
        self._outage = Outage(remind_cap_s=config.backoff_cap_s, tries=backoff)

    @property
    def up(self) -> bool:
        return self._outage.up

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    async def disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await _close(client)

    def tag(self, address: str) -> S7Tag:
        """The tag at ``address``; DeviceMisconfigured when it is not an S7 address."""
        found = self._tags.get(address)
        if found is None:
            try:
                where = parse_address(address)
            except ValueError as exc:
                raise DeviceMisconfigured(f"{self.config.id}: {exc}") from None
            given, length = self._types.get(address, (None, None))
            kind = value_type(where, given)
            found = S7Tag(address, where, kind, length, byte_count(where, kind, length))
            self._tags[address] = found
        return found

    async def read_tags(self, addresses: Sequence[str]) -> dict[str, Value]:
        """The value of each address, in as few area reads as the PDU allows."""
        key = tuple(addresses)
        client = await self._connected()
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= MAX_PLANS:
                self._plans.clear()  # tags due at many different intervals: plan anew
            tags = [self.tag(address) for address in dict.fromkeys(addresses)]
            plan = self._plans[key] = plan_reads(tags, client.pdu_length - PDU_OVERHEAD)
        values: dict[str, Value] = {}
        for read in plan:
            request = client.read_area(AREAS[read.area], read.db, read.start, read.size)
            data = await self._call(client, request)
            for tag in read.tags:
                values[tag.text] = self._decode(tag, data, tag.where.byte - read.start)
        return values

    def _decode(self, tag: S7Tag, data: bytearray, offset: int) -> Value:
        if tag.kind == "bool":
            assert tag.where.bit is not None  # an X address has its bit
            return get_bool(data, offset, tag.where.bit)
        try:
            return READERS[tag.kind](data, offset)
        except (TypeError, ValueError) as exc:  # a STRING whose length bytes do not fit
            raise DeviceMisconfigured(f"{self.config.id}: {tag.text}: {exc}") from None

    async def write_tags(self, values: Mapping[str, Value]) -> None:
        """Write several tags: those whose bytes touch in one area (a tower light's bits
        in one byte, say) in one request, read first where a bit must keep the other bits
        of its byte; each value in the order given."""
        tags = {address: self.tag(address) for address in values}
        client = await self._connected()
        blocks = plan_reads(list(tags.values()), client.pdu_length - WRITE_OVERHEAD, max_gap=0)
        for block in blocks:
            if len(block.tags) == 1:
                await self.write_tag(block.tags[0].text, values[block.tags[0].text])
                continue
            area = AREAS[block.area]
            if any(tag.kind == "bool" for tag in block.tags):
                request = client.read_area(area, block.db, block.start, block.size)
                data = await self._call(client, request)
            else:
                data = bytearray(block.size)  # every byte is one of the values'
            inside = {tag.text for tag in block.tags}
            for address, value in values.items():
                if address in inside:
                    self._put(tags[address], data, tags[address].where.byte - block.start, value)
            await self._call(client, client.write_area(area, block.db, block.start, data))

    async def write_tag(self, address: str, value: Value) -> None:
        """Write one tag: a bit within its byte (read, changed, written back, as snap7's
        own ``db_write_bool`` does), a number or a string in the tag's own type."""
        tag = self.tag(address)
        client = await self._connected()
        where, area = tag.where, AREAS[tag.where.area]
        if tag.kind == "bool":
            data = await self._call(client, client.read_area(area, where.db, where.byte, 1))
        else:
            data = bytearray(tag.size)
        self._put(tag, data, 0, value)
        await self._call(client, client.write_area(area, where.db, where.byte, data))

    def _put(self, tag: S7Tag, data: bytearray, offset: int, value: Value) -> None:
        """``value`` into ``data`` at ``offset``, in the tag's own type."""
        if tag.kind == "bool":
            assert tag.where.bit is not None  # an X address has its bit
            set_bool(data, offset, tag.where.bit, bool(value))
            return
        try:
            _encode(tag, data, offset, value)
        except (TypeError, ValueError, OverflowError) as exc:
            raise DeviceMisconfigured(f"{self.config.id}: {tag.text}: {exc}") from None

    async def _connected(self) -> AsyncClient:
        # The poller and the lights share the driver: one of them connects at a time.
        async with self._connecting:
            if self._client is None:
                self._client = await self._connect()
            return self._client

    async def _connect(self) -> AsyncClient:
        config = self.config
        started = time.monotonic()
        if not self._outage.may_try(started):
            raise DeviceUnavailable(f"{config.id}: not connected (tried again shortly)")
        client = AsyncClient()
        try:
            async with asyncio.timeout(config.timeout_s):
                await client.connect(config.host, config.rack, config.slot, config.port)
        except (*_TRANSPORT_ERRORS, S7Error) as exc:
            await _close(client)
            self._failed(started, exc)
            raise DeviceUnavailable(f"{config.id}: cannot connect: {_why(exc)}") from exc
        self.connects += 1
        return client

    async def _call(self, client: AsyncClient, request: Awaitable[T]) -> T:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.config.timeout_s):
                result = await request
        except _TRANSPORT_ERRORS as exc:
            if self._client is client:  # not one another task opened since
                self._client = None
            await _close(client)
            self._failed(started, exc)
            raise DeviceUnavailable(f"{self.config.id}: {_why(exc)}") from exc
        except S7Error as exc:  # the PLC answered: no such data block, out of its range
            self._answered()
            raise DeviceMisconfigured(f"{self.config.id}: {exc}") from exc
        self.requests += 1
        self._answered()
        return result

    def _answered(self) -> None:
        if self._outage.succeeded():
            log.warning("S7 PLC %s answers again", self.config.id)

    def _failed(self, started: float, exc: BaseException) -> None:
        report = self._outage.failed(started=started, now=time.monotonic())
        config = self.config
        if report is Report.DOWN:
            log.warning(
                "S7 PLC %s (%s:%d) is down: %s", config.id, config.host, config.port, _why(exc)
            )
        elif report is Report.STILL_DOWN:
            log.warning("S7 PLC %s is still down after %d tries", config.id, self._outage.tries)


def _encode(tag: S7Tag, data: bytearray, offset: int, value: Value) -> None:
    if tag.kind == "string":
        assert tag.length is not None  # checked with the configuration
        set_string(data, offset, str(value), tag.length)
    elif tag.kind == "float32":
        set_real(data, offset, float(value))
    else:
        WRITERS[tag.kind](data, offset, int(value))


async def _close(client: AsyncClient) -> None:
    try:
        await client.disconnect()
    except (*_TRANSPORT_ERRORS, S7Error):
        pass  # it is gone either way


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
