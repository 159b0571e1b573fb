"""Serial button station driver: an andon button box on RS-232/RS-485 speaking our line
protocol (docs/serial-protocol.md), read as a stream of button events.

The box pushes frames; nobody polls it. While the driver is entered it reads the port in
a task of its own, so heartbeats are seen (and the station's ``online`` state kept) even
when nobody is consuming ``events()`` yet.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import Literal, Self

from pydantic import Field

from contract.backoff import Backoff
from drivers.errors import DeviceMisconfigured
from drivers.modbus_unit import Table
from drivers.serial_frames import MAX_SEQ, ButtonFrame, HeartbeatFrame, StationFrameParser
from drivers.serial_port import SerialPortConfig, SerialReader, SerialStream

log = logging.getLogger(__name__)


class SerialButtonStationConfig(SerialPortConfig):
    """One button box on one serial port (the protocol has no bus arbitration)."""

    kind: Literal["serial_button_station"]
    heartbeat_timeout_s: float = Field(
        default=3.0,
        gt=0,
        le=3600,
        description="offline after this long without a valid frame (3 heartbeats at 1 s)",
    )


@dataclass(frozen=True, slots=True)
class ButtonEvent:
    """A button pressed or released; ``read_at`` is on ``time.monotonic()``'s clock."""

    station: str
    button: str
    pressed: bool
    seq: int
    read_at: float


@dataclass(frozen=True, slots=True)
class StationStats:
    """Counters since the driver was made; times are on ``time.monotonic()``'s clock."""

    frames_ok: int
    heartbeats: int
    rejected: Mapping[str, int]
    sequence_gaps: int
    dropped_events: int
    last_heartbeat_at: float | None
    last_frame_at: float | None


@dataclass
class _Liveness:
    frames_ok: int = 0
    heartbeats: int = 0
    sequence_gaps: int = 0
    last_heartbeat_at: float | None = None
    last_frame_at: float | None = None
    last_seq: int | None = None


class SerialButtonStationDriver:
    """An async context manager; ``events()`` yields a ButtonEvent per button frame.

    ``online`` is true while the port is open and a valid frame (a heartbeat, or a
    button frame) arrived less than ``heartbeat_timeout_s`` ago. A lost port is raised
    as DeviceUnavailable from ``events()`` once per outage and reopened with backoff.
    """

    def __init__(
        self,
        config: SerialButtonStationConfig,
        *,
        backoff: Backoff | None = None,
        queue_size: int = 1000,
    ) -> None:
        self.config = config
        self._parser = StationFrameParser()
        self._live = _Liveness()
        self._logged_online = False
        self._stream: SerialStream[ButtonEvent] = SerialStream(
            SerialReader(config, backoff=backoff),
            decode=self._decode,
            on_tick=self._log_liveness,
            # Often enough that going offline is logged close to when it happens.
            tick_s=min(0.25, config.heartbeat_timeout_s / 4),
            queue_size=queue_size,
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

    def events(self) -> AsyncIterator[ButtonEvent]:
        """Button events in the order the station sent them (one consumer at a time)."""
        return self._stream

    @property
    def port_open(self) -> bool:
        """Whether the serial port is open now."""
        return self._stream.reader.is_open

    @property
    def online(self) -> bool:
        """Whether the station is heard from: port open and a recent valid frame."""
        return self._is_online(time.monotonic())

    @property
    def stats(self) -> StationStats:
        """A snapshot of the counters."""
        live = self._live
        return StationStats(
            frames_ok=live.frames_ok,
            heartbeats=live.heartbeats,
            rejected=MappingProxyType({str(k): v for k, v in self._parser.rejected.items()}),
            sequence_gaps=live.sequence_gaps,
            dropped_events=self._stream.dropped,
            last_heartbeat_at=live.last_heartbeat_at,
            last_frame_at=live.last_frame_at,
        )

    async def read(self, table: Table, address: int, count: int = 1) -> list[int]:
        """Refused: a button station pushes events; iterate ``events()`` instead."""
        raise DeviceMisconfigured(
            f"{self.config.id}: a serial button station is not read by address "
            f"({table} {address}+{count}); its buttons arrive as events"
        )

    def _is_online(self, now: float) -> bool:
        opened_at = self._stream.reader.opened_at
        last = self._live.last_frame_at
        if opened_at is None or last is None or last < opened_at:
            return False
        return now - last <= self.config.heartbeat_timeout_s

    def _decode(self, chunk: bytes, read_at: float) -> list[ButtonEvent]:
        events: list[ButtonEvent] = []
        live = self._live
        for frame in self._parser.feed(chunk):
            live.frames_ok += 1
            live.last_frame_at = read_at
            self._note_seq(frame.seq)
            if isinstance(frame, HeartbeatFrame):
                live.heartbeats += 1
                live.last_heartbeat_at = read_at
            elif isinstance(frame, ButtonFrame):
                events.append(
                    ButtonEvent(
                        station=frame.station,
                        button=frame.button,
                        pressed=frame.pressed,
                        seq=frame.seq,
                        read_at=read_at,
                    )
                )
        return events

    def _note_seq(self, seq: int) -> None:
        # One counter per station for all frame types, so any lost frame shows as a
        # gap. A station that restarts begins again at 0: that is one gap too.
        last = self._live.last_seq
        if last is not None and seq != (last + 1) % (MAX_SEQ + 1):
            self._live.sequence_gaps += 1
        self._live.last_seq = seq

    def _log_liveness(self, now: float) -> None:
        online = self._is_online(now)
        if online == self._logged_online:
            return
        self._logged_online = online
        if online:
            log.info("button station on %s is online", self.config.id)
        elif not self.port_open:
            log.warning("button station on %s is offline: its port is closed", self.config.id)
        else:
            log.warning(
                "button station on %s is offline: no valid frame for %.1f s",
                self.config.id,
                self.config.heartbeat_timeout_s,
            )
