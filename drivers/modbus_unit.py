"""What a Modbus TCP and a Modbus RTU device share: one unit id on a shared link.

A unit that stops answering is marked down and tried again within ``RETRY_WITHIN_S``
(jittered) however long it has been down, so it is read again as soon as it answers;
reads of a down unit fail fast until its next try. A silent unit on a link it shares
costs the others a timeout per try, so there its tries are spaced to take at most
``SILENT_SHARE`` of the link's time. When the link itself is down, the link decides
when to try. Only the log's reminders back off, up to ``backoff_cap_s``. "Busy" answers
(exception 6) are retried; other refusals are wiring mistakes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from enum import StrEnum
from types import TracebackType
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from contract.backoff import Backoff, Outage, Report
from drivers.config import DEVICE_ID_PATTERN
from drivers.errors import DeviceMisconfigured, DeviceUnavailable
from drivers.modbus_link import LinkDown, ModbusLink

log = logging.getLogger(__name__)

EXCEPTION_BUSY = 6
# Exceptions that mean the unit, not the request, is at fault: device failure and the
# gateway's "path unavailable" / "target failed to respond".
EXCEPTIONS_UNAVAILABLE = {4, 10, 11}
# The most of a shared link's time the tries of a silent unit may take (each waits out
# its timeout): a silent unit with a 1 s timeout beside others is tried every 4 s.
SILENT_SHARE = 0.25


class Table(StrEnum):
    """The four Modbus data tables."""

    COIL = "coil"
    DISCRETE_INPUT = "discrete_input"
    HOLDING_REGISTER = "holding_register"
    INPUT_REGISTER = "input_register"

    @property
    def is_bits(self) -> bool:
        return self in (Table.COIL, Table.DISCRETE_INPUT)


# The most one Modbus request may carry: 2000 bits or 125 registers.
PROTOCOL_MAX = {Table.COIL: 2000, Table.DISCRETE_INPUT: 2000}
PROTOCOL_MAX_REGISTERS = 125


class ModbusUnitConfig(BaseModel):
    """Settings every Modbus unit has, whatever link it is on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str  # each link's config narrows it to a Literal: the union's discriminator
    id: str = Field(pattern=DEVICE_ID_PATTERN)
    unit: int = Field(default=1, ge=0, le=255, description="Modbus unit (device) id")
    timeout_s: float = Field(default=1.0, gt=0)
    backoff_cap_s: float = Field(
        default=30.0, gt=0, description="longest gap between reminders that it is still down"
    )
    retries: int = Field(default=2, ge=0, le=10, description="retries of a busy answer")
    max_registers: int = Field(default=125, ge=1, le=125, description="registers per request")
    max_bits: int = Field(default=2000, ge=1, le=2000, description="bits per request")
    max_gap: int = Field(default=8, ge=0, le=124, description="unused addresses one read may span")
    pause_s: float = Field(default=0.0, ge=0, le=10, description="pause between requests")

    def max_count(self, table: Table) -> int:
        return self.max_bits if table.is_bits else self.max_registers


class ModbusUnitDriver:
    """Reads and writes one unit id on a shared ``ModbusLink``."""

    config: ModbusUnitConfig

    def __init__(
        self,
        config: ModbusUnitConfig,
        link: ModbusLink | None = None,
        *,
        backoff: Backoff | None = None,
    ) -> None:
        self.config = config
        self.link = link or self.open_link([config], backoff=backoff)
        self.link.units += 1
        self.reads = 0
        self._outage = Outage(remind_cap_s=config.backoff_cap_s, tries=backoff)

    @property
    def up(self) -> bool:
        """Whether the unit answered its last request (or has not been asked yet)."""
        return self._outage.up

    @staticmethod
    def open_link(configs: Sequence[Any], *, backoff: Backoff | None = None) -> ModbusLink:
        """The link the units of ``configs`` share; each kind of link has its own."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.link.close()

    async def read(self, table: Table, address: int, count: int = 1) -> list[int]:
        """Read ``count`` values; bits come back as 0/1."""
        function = _READS[table]
        resp = await self._request(
            lambda client: getattr(client, function)(
                address, count=count, device_id=self.config.unit
            ),
            f"read {count} {table} at {address}",
        )
        self.reads += 1
        if table.is_bits:
            return [int(bit) for bit in resp.bits[:count]]
        return list(resp.registers[:count])

    async def write(self, table: Table, address: int, value: int) -> None:
        """Write one coil (0/1) or one holding register."""
        unit = self.config.unit
        if table is Table.COIL:
            await self._request(
                lambda client: client.write_coil(address, bool(value), device_id=unit),
                f"write {table} at {address}",
            )
        elif table is Table.HOLDING_REGISTER:
            await self._request(
                lambda client: client.write_register(address, value, device_id=unit),
                f"write {table} at {address}",
            )
        else:
            raise DeviceMisconfigured(f"{self.config.id}: {table} is read-only")

    async def _request(self, request: Any, what: str) -> Any:
        started = time.monotonic()
        if not self._outage.may_try(started):
            raise DeviceUnavailable(f"{self.config.id}: not answering; waiting to reconnect")
        deadline = self.config.timeout_s * 2 + 1.0
        for attempt in range(self.config.retries + 1):
            try:
                resp = await self.link.call(request, deadline_s=deadline)
            except DeviceUnavailable as exc:
                self._mark_down(str(exc), started, link_down=isinstance(exc, LinkDown))
                raise DeviceUnavailable(f"{self.config.id}: {exc}") from exc
            code = getattr(resp, "exception_code", 0) if resp.isError() else 0
            if code == EXCEPTION_BUSY and attempt < self.config.retries:
                await asyncio.sleep(self.config.timeout_s / 10)
                continue
            if code in EXCEPTIONS_UNAVAILABLE or code == EXCEPTION_BUSY:
                self._mark_down(f"exception {code}", started)
                raise DeviceUnavailable(f"{self.config.id}: {what}: exception {code}")
            self._mark_up()
            if resp.isError():
                raise DeviceMisconfigured(
                    f"{self.config.id}: device refused to {what}: exception {code}"
                )
            return resp
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _mark_down(self, reason: str, started: float, *, link_down: bool = False) -> None:
        now = time.monotonic()
        outage = self._outage
        # A link that cannot connect keeps its own schedule; a second one here could only
        # make the unit miss the link's next try.
        report = outage.failed(started=started, now=now, gate=not link_down)
        if not link_down and self.link.units > 1:
            # The failed try held the shared link for its timeout: space the next one so
            # the unit's tries take at most SILENT_SHARE of the link's time.
            spaced = now + (now - started) * (1 / SILENT_SHARE - 1)
            outage.retry_at = max(outage.retry_at, spaced)
        if report is Report.DOWN:
            log.warning("device %s is down: %s", self.config.id, reason)
        elif report is Report.STILL_DOWN:
            log.warning(
                "device %s still down after %.0f s: %s", self.config.id, now - outage.since, reason
            )

    def _mark_up(self) -> None:
        down_s = time.monotonic() - self._outage.since
        if self._outage.succeeded():
            log.info("device %s is up again after %.1f s", self.config.id, down_s)


_READS = {
    Table.COIL: "read_coils",
    Table.DISCRETE_INPUT: "read_discrete_inputs",
    Table.HOLDING_REGISTER: "read_holding_registers",
    Table.INPUT_REGISTER: "read_input_registers",
}
