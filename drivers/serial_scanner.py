"""Serial scanner driver: a barcode or RFID reader that sends one line per scan, bound to
the station where it hangs, read as a stream of scans (the serial or lot of a part).

Scanners end a scan with CR, LF or CR LF, as they are set up; some wrap it in a prefix
and suffix (STX ... ETX on many RFID readers), which the driver checks and strips.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType, TracebackType
from typing import Literal, Self

from pydantic import Field

from contract.backoff import Backoff
from contract.wire import Name
from drivers.errors import DeviceMisconfigured
from drivers.modbus_unit import Table
from drivers.serial_lines import LineSplitter
from drivers.serial_port import SerialPortConfig, SerialReader, SerialStream

# Room for the blanks some scanners pad a code with, on top of prefix, code and suffix.
_PADDING = 16
_BLANKS = b" \t"
_ASCII = r"^[\x00-\x7f]{0,16}$"


class SerialScannerConfig(SerialPortConfig):
    """One scanner on one serial port, bound to one station."""

    kind: Literal["serial_scanner"]
    station: Name
    prefix: str = Field(default="", pattern=_ASCII, description="sent before each code")
    suffix: str = Field(default="", pattern=_ASCII, description="sent after each code")
    max_length: int = Field(default=64, ge=1, le=1024, description="longest code accepted")


class ScanRejection(StrEnum):
    """Why a line from a scanner was not taken as a code."""

    EMPTY = "empty"
    OVERLONG = "overlong"
    NON_PRINTABLE = "non_printable"  # a byte outside printable ASCII (0x20-0x7E)
    NO_PREFIX = "no_prefix"
    NO_SUFFIX = "no_suffix"


@dataclass(frozen=True, slots=True)
class ScanEvent:
    """One code read at a station; ``read_at`` is on ``time.monotonic()``'s clock."""

    station: str
    code: str
    read_at: float


@dataclass(frozen=True, slots=True)
class ScannerStats:
    """Counters since the driver was made."""

    scans: int
    rejected: Mapping[str, int]
    dropped_events: int


class ScanParser:
    """Pure: bytes from a scanner in, codes out; rejected lines counted by reason."""

    def __init__(self, *, prefix: str = "", suffix: str = "", max_length: int = 64) -> None:
        self.rejected: Counter[ScanRejection] = Counter()
        self._prefix = prefix.encode("ascii")
        self._suffix = suffix.encode("ascii")
        self._max_length = max_length
        limit = len(self._prefix) + max_length + len(self._suffix) + _PADDING
        self._lines = LineSplitter(limit)

    def feed(self, data: bytes) -> list[str]:
        """The codes completed by ``data``, in order."""
        overlong_before = self._lines.overlong
        codes: list[str] = []
        for line in self._lines.feed(data):
            result = self.parse_line(line)
            if isinstance(result, ScanRejection):
                self.rejected[result] += 1
            else:
                codes.append(result)
        if self._lines.overlong > overlong_before:
            self.rejected[ScanRejection.OVERLONG] += self._lines.overlong - overlong_before
        return codes

    def parse_line(self, line: bytes) -> str | ScanRejection:
        """The code in one line (line end removed), or why there is none."""
        if self._prefix:
            if not line.startswith(self._prefix):
                return ScanRejection.NO_PREFIX if line.strip(_BLANKS) else ScanRejection.EMPTY
            line = line[len(self._prefix) :]
        if self._suffix:
            if not line.endswith(self._suffix):
                return ScanRejection.NO_SUFFIX
            line = line[: -len(self._suffix)]
        code = line.strip(_BLANKS)
        if not code:
            return ScanRejection.EMPTY
        if len(code) > self._max_length:
            return ScanRejection.OVERLONG
        if any(byte < 0x20 or byte > 0x7E for byte in code):
            return ScanRejection.NON_PRINTABLE
        return code.decode("ascii")


class SerialScannerDriver:
    """An async context manager; ``events()`` yields a ScanEvent per accepted code.

    A lost port is raised as DeviceUnavailable from ``events()`` once per outage and
    reopened with backoff, as for button stations.
    """

    def __init__(
        self,
        config: SerialScannerConfig,
        *,
        backoff: Backoff | None = None,
        queue_size: int = 1000,
    ) -> None:
        self.config = config
        self.scans = 0
        self._parser = ScanParser(
            prefix=config.prefix, suffix=config.suffix, max_length=config.max_length
        )
        self._stream: SerialStream[ScanEvent] = SerialStream(
            SerialReader(config, backoff=backoff), decode=self._decode, queue_size=queue_size
        )

    async def __aenter__(self) -> Self:
        await self._stream.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stream.stop()

    def events(self) -> AsyncIterator[ScanEvent]:
        """Scans in the order they were read (one consumer at a time)."""
        return self._stream

    @property
    def port_open(self) -> bool:
        """Whether the serial port is open now."""
        return self._stream.reader.is_open

    @property
    def stats(self) -> ScannerStats:
        """A snapshot of the counters."""
        return ScannerStats(
            scans=self.scans,
            rejected=MappingProxyType({str(k): v for k, v in self._parser.rejected.items()}),
            dropped_events=self._stream.dropped,
        )

    async def read(self, table: Table, address: int, count: int = 1) -> list[int]:
        """Refused: a scanner pushes codes; iterate ``events()`` instead."""
        raise DeviceMisconfigured(
            f"{self.config.id}: a serial scanner is not read by address "
            f"({table} {address}+{count}); its codes arrive as events"
        )

    def _decode(self, chunk: bytes, read_at: float) -> list[ScanEvent]:
        codes = self._parser.feed(chunk)
        self.scans += len(codes)
        station = self.config.station
        return [ScanEvent(station=station, code=code, read_at=read_at) for code in codes]
