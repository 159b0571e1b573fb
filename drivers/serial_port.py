"""Reading a serial port from asyncio, and reopening it after it vanished: shared by the
serial drivers (button stations, scanners) so the reconnect logic lives in one place.

The port is opened non-blocking with pyserial and watched with ``loop.add_reader``: no
thread is involved, so cancelling a read or closing the port returns at once. POSIX only
(Linux edge agents): a serial port is a path such as ``/dev/ttyUSB0`` or
``/dev/serial/by-id/...``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Generic, Literal, NoReturn, Self, TypeVar

import serial
from pydantic import BaseModel, ConfigDict, Field

from contract.backoff import Backoff
from drivers.config import DEVICE_ID_PATTERN
from drivers.errors import DeviceError, DeviceMisconfigured, DeviceUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

# One read takes what the kernel holds; at 115200 baud that is far less than this.
_READ_SIZE = 4096


class SerialPortConfig(BaseModel):
    """Settings every serial device shares: which port, and how its line is set up."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=DEVICE_ID_PATTERN)
    port: str = Field(pattern=r"^/\S+$", description="device path, e.g. /dev/ttyUSB0")
    baudrate: int = Field(default=9600, gt=0, le=4_000_000)
    bytesize: Literal[5, 6, 7, 8] = 8
    parity: Literal["N", "E", "O", "M", "S"] = "N"
    stopbits: Literal[1, 2] = 1
    backoff_cap_s: float = Field(default=30.0, gt=0)


class SerialReader:
    """One serial port, opened on the first read and reopened after a failure.

    A failure (the port cannot be opened, or it vanished: a USB adapter pulled out)
    raises DeviceUnavailable; the next read waits out a capped, jittered backoff before
    it opens the port again. Only changes of state are logged, not every attempt.
    ``opened_at`` is when the port was last opened (``time.monotonic()``), None while it
    is closed; ``outages`` counts the changes from up to down.
    """

    def __init__(self, config: SerialPortConfig, *, backoff: Backoff | None = None) -> None:
        self.config = config
        self.opened_at: float | None = None
        self.outages = 0  # changes to down; the first failure to open is one too
        self._backoff = backoff or Backoff(cap=config.backoff_cap_s)
        self._port: serial.Serial | None = None
        self._received = bytearray()
        self._failure: str | None = None
        self._readable = asyncio.Event()
        self._retry_at = 0.0
        self._was_up = True

    @property
    def is_open(self) -> bool:
        """Whether the port is open now."""
        return self._port is not None

    async def read(self, wait_s: float | None = None) -> bytes:
        """The bytes received since the last read, waiting up to ``wait_s`` s for some.

        Returns ``b""`` when nothing came in time. Bytes that arrived before a failure
        are returned first; the failure is raised by the next read.
        """
        if self._port is None:
            await self._open_after_backoff()
        if not self._received and self._failure is None:
            await self._wait_readable(wait_s)
        if self._received:
            data = bytes(self._received)
            self._received.clear()
            # Only a port that delivers counts as recovered: one that opens and fails at
            # once, again and again, keeps backing off instead of flapping at 5 Hz.
            self._backoff.reset()
            return data
        if self._failure is not None:
            reason = self._failure
            self._fail(reason)
            raise DeviceUnavailable(f"{self.config.id}: {reason}")
        return b""

    async def _wait_readable(self, wait_s: float | None) -> None:
        # A timer that sets the event, rather than asyncio.timeout: nothing here can
        # mistake a cancellation for a timeout (or the reverse) on any Python version.
        self._readable.clear()
        loop = asyncio.get_running_loop()
        timer = None if wait_s is None else loop.call_later(wait_s, self._readable.set)
        try:
            await self._readable.wait()
        finally:
            if timer is not None:
                timer.cancel()

    def close(self) -> None:
        """Close the port; a later read opens it again."""
        port, self._port = self._port, None
        self.opened_at = None
        if port is not None:
            with contextlib.suppress(OSError, ValueError):
                asyncio.get_running_loop().remove_reader(port.fileno())
            port.close()

    async def _open_after_backoff(self) -> None:
        delay = self._retry_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        cfg = self.config
        try:
            port = serial.Serial(
                port=cfg.port,
                baudrate=cfg.baudrate,
                bytesize=cfg.bytesize,
                parity=cfg.parity,
                stopbits=cfg.stopbits,
                timeout=0,
                # Two readers on one port would each get half the bytes: refuse it.
                exclusive=True,
            )
        except ValueError as exc:
            self._fail(f"the port refused its settings: {exc}")
            raise DeviceMisconfigured(f"{cfg.id}: {cfg.port}: {exc}") from exc
        except OSError as exc:  # serial.SerialException is one too
            # pyserial's message names the port and the cause; strerror drops "[Errno n]".
            reason = exc.strerror or str(exc)
            self._fail(reason)
            raise DeviceUnavailable(f"{cfg.id}: {reason}") from exc
        self._received.clear()
        self._failure = None
        asyncio.get_running_loop().add_reader(port.fileno(), self._on_readable, port.fileno())
        self._port = port
        self.opened_at = time.monotonic()
        if self._was_up:
            log.info("serial device %s opened %s", cfg.id, cfg.port)
        else:
            log.info("serial device %s is up again on %s", cfg.id, cfg.port)
        self._was_up = True

    def _on_readable(self, fd: int) -> None:
        # Runs in the event loop whenever the fd is readable; it must never raise.
        try:
            data = os.read(fd, _READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            data, self._failure = b"", f"read failed: {exc}"
        if data:
            self._received += data
        else:
            # Readable yet empty (or an error): the device is gone. Stop watching it
            # now, or the loop would call us again and again.
            self._failure = self._failure or "the device disconnected"
            asyncio.get_running_loop().remove_reader(fd)
        self._readable.set()

    def _fail(self, reason: str) -> None:
        self.close()
        self._failure = None
        self._retry_at = time.monotonic() + self._backoff.next_delay()
        if self._was_up:
            self.outages += 1
            log.warning("serial device %s is down: %s", self.config.id, reason)
        self._was_up = False


class SerialStream(Generic[T]):
    """Reads one port in a task of its own while started; an async iterator of what it decodes.

    ``decode(chunk, read_at)`` turns each chunk into items; ``on_tick(now)`` runs after
    every read attempt, at least every ``tick_s`` seconds while the port is open. The
    queue holds at most ``queue_size`` items: when nobody consumes them the oldest are
    dropped and counted in ``dropped``, so memory stays bounded.
    """

    def __init__(
        self,
        reader: SerialReader,
        *,
        decode: Callable[[bytes, float], Iterable[T]],
        on_tick: Callable[[float], None] | None = None,
        tick_s: float | None = None,
        queue_size: int = 1000,
    ) -> None:
        self.reader = reader
        self.dropped = 0
        self._decode = decode
        self._on_tick = on_tick
        self._tick_s = tick_s
        self._queue: deque[T | DeviceError] = deque(maxlen=queue_size)
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the reading task."""
        if self._task is None:
            name = f"serial-{self.reader.config.id}"
            self._task = asyncio.create_task(self._run(), name=name)
            self._task.add_done_callback(lambda _: self._ready.set())

    async def stop(self) -> None:
        """Stop the reading task and close the port; returns promptly."""
        task, self._task = self._task, None
        try:
            if task is not None:
                task.cancel()
                # wait() rather than await: a cancellation of our caller must propagate,
                # not be taken for the task's own.
                await asyncio.wait({task})
                if not task.cancelled() and task.exception() is not None:
                    log.error(
                        "reader of %s failed", self.reader.config.id, exc_info=task.exception()
                    )
        finally:
            self.reader.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        """The next decoded item, waiting for it; the stream never ends while it runs.

        Raises DeviceUnavailable once when the port is lost or cannot be opened (after
        the items read before that); the next call waits for the port to come back.
        Cancelling a wait loses nothing: items stay queued for the next call.
        """
        while not self._queue:
            if self._task is None or self._task.done():
                self._raise_stopped()
            self._ready.clear()
            await self._ready.wait()
        item = self._queue.popleft()
        if isinstance(item, DeviceError):
            raise item
        return item

    def _raise_stopped(self) -> NoReturn:
        task = self._task
        if task is not None and not task.cancelled() and task.exception() is not None:
            raise DeviceUnavailable(f"{self.reader.config.id}: reader failed") from task.exception()
        raise DeviceUnavailable(f"{self.reader.config.id}: not reading (driver closed)")

    async def _run(self) -> None:
        reported = 0
        try:
            while True:
                try:
                    chunk = await self.reader.read(self._tick_s)
                except DeviceError as exc:
                    if reported != self.reader.outages:  # once per outage, not per attempt
                        self._put(exc)
                        reported = self.reader.outages
                else:
                    read_at = time.monotonic()
                    for item in self._decode(chunk, read_at):
                        self._put(item)
                if self._on_tick is not None:
                    self._on_tick(time.monotonic())
        finally:
            self.reader.close()

    def _put(self, item: T | DeviceError) -> None:
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
        self._queue.append(item)
        self._ready.set()
