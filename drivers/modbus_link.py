"""One Modbus link, a TCP connection or a serial port, shared by every unit on it.

Requests on a link are serialised (a bus carries one request at a time, and most
gateways answer one at a time too), with a pause between them for slow devices. The
link reconnects in one place, after any transport error: a link that cannot connect is
tried again within ``RETRY_WITHIN_S`` (jittered) however long it has been down, so a
PLC back from a reboot is read at once; only the log's reminders back off, up to the
devices' ``backoff_cap_s``. pymodbus's own reconnect task is off (``reconnect_delay=0``)
and its retries too: this module decides when to connect.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pymodbus.client.base import ModbusBaseClient
from pymodbus.exceptions import ModbusException

from contract.backoff import Backoff, Outage, Report
from drivers.errors import DeviceUnavailable

log = logging.getLogger(__name__)

# Given the client's trace_connect callback: pymodbus calls it with False when the
# connection is lost.
ClientFactory = Callable[[Callable[[bool], None]], ModbusBaseClient]
Request = Callable[[ModbusBaseClient], Awaitable[Any]]

# The longest a connect may take. On a plant's network a TCP handshake takes a few
# milliseconds; a host that is switched off behind a router drops the SYN and would
# hold the link for the whole client timeout (pymodbus uses the response timeout for
# connecting too). Half a second keeps tries within a second of each other.
CONNECT_TIMEOUT_S = 0.5

# pymodbus logs every failed connect and every unanswered request itself (a warning or
# an error each time, on the logger below); with tries every second that would be a
# line a second per device that is down. The link and its units log the changes of
# state instead, and the failure's text travels in DeviceUnavailable.
PYMODBUS_LOGGER = "pymodbus.logging"
PYMODBUS_PER_TRY = ("Failed to connect", "No response received", "Repeating....")


class QuietTries(logging.Filter):
    """Drops pymodbus's own line about each failed try (``PYMODBUS_PER_TRY``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(PYMODBUS_PER_TRY)


_QUIET_TRIES = QuietTries()


def quiet_pymodbus_tries() -> None:
    """Install ``QuietTries`` on pymodbus's logger (once, whoever asks)."""
    logging.getLogger(PYMODBUS_LOGGER).addFilter(_QUIET_TRIES)


class LinkDown(DeviceUnavailable):
    """The link itself is down (no connection): its units wait for it, not for themselves."""


class ModbusLink:
    """A lazily opened pymodbus client with a lock, a pause and a reconnect schedule."""

    def __init__(
        self,
        *,
        name: str,
        make_client: ClientFactory,
        pause_s: float,
        remind_cap_s: float,
        backoff: Backoff | None = None,
    ) -> None:
        self.name = name
        self.pause_s = pause_s
        self.requests = 0
        self.connects = 0
        self.units = 0  # the drivers sharing it: a silent one must leave the others time
        self._make_client = make_client
        self._outage = Outage(remind_cap_s=remind_cap_s, tries=backoff)
        self._lock = asyncio.Lock()
        self._client: ModbusBaseClient | None = None
        self._in_flight: asyncio.Timeout | None = None
        self._last_done = 0.0
        quiet_pymodbus_tries()

    async def call(self, request: Request, *, deadline_s: float) -> Any:
        """Run one request on the link, alone; raise DeviceUnavailable on any transport
        error (LinkDown when there is no connection).

        ``deadline_s`` bounds the whole request even if the client's own timeout fails."""
        async with self._lock:
            wait = self._last_done + self.pause_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                client = await self._connected_client()
                self.requests += 1
                async with asyncio.timeout(deadline_s) as in_flight:
                    self._in_flight = in_flight
                    try:
                        return await request(client)
                    finally:
                        # Only a timeout that is still running may be rescheduled.
                        self._in_flight = None
            except (ModbusException, OSError, TimeoutError) as exc:
                # Anything but an answer leaves the link in doubt (a late reply would
                # be taken for the next one's): reconnect before the next request.
                lost = self._client is not None and not self._client.connected
                self.drop()
                why = "connection lost" if lost else str(exc) or type(exc).__name__
                raise DeviceUnavailable(f"{self.name}: {why}") from exc
            finally:
                self._last_done = time.monotonic()

    def _on_connection(self, generation: int) -> Callable[[bool], None]:
        """The trace_connect callback of the ``generation``-th client."""

        def changed(connected: bool) -> None:
            # pymodbus leaves a request whose connection closed waiting out its whole
            # timeout (a PLC shutting down, a pty gone): end it now, so the link is
            # tried again at once.
            in_flight = self._in_flight
            if connected or generation != self.connects or in_flight is None:
                return
            if not in_flight.expired():
                in_flight.reschedule(asyncio.get_running_loop().time())

        return changed

    async def _connected_client(self) -> ModbusBaseClient:
        if self._client is not None and self._client.connected:
            return self._client
        started = time.monotonic()
        if not self._outage.may_try(started):
            raise LinkDown(f"{self.name}: waiting to reconnect")
        self.drop()
        self.connects += 1
        client = self._make_client(self._on_connection(self.connects))
        if not await _connect(client):
            client.close()
            self._log_failure(self._outage.failed(started=started, now=time.monotonic()))
            raise LinkDown(f"{self.name}: cannot connect")
        self._client = client
        down_s, tries = time.monotonic() - self._outage.since, self._outage.tries
        if self._outage.succeeded():
            log.info("link %s is up again after %.1f s (%d tries)", self.name, down_s, tries)
        return client

    def _log_failure(self, report: Report | None) -> None:
        if report is Report.DOWN:
            log.warning("link %s is down: cannot connect", self.name)
        elif report is Report.STILL_DOWN:
            log.warning(
                "link %s still down after %.0f s (%d tries)",
                self.name, time.monotonic() - self._outage.since, self._outage.tries,
            )  # fmt: skip

    def drop(self) -> None:
        """Close the connection; the next request opens a new one."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def close(self) -> None:
        self.drop()


async def _connect(client: ModbusBaseClient) -> bool:
    """One connection attempt of at most ``CONNECT_TIMEOUT_S``; False if it failed."""
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            return await client.connect()
    except TimeoutError:
        return False


def link_backoff(like: Backoff | None) -> Backoff | None:
    """A link's own copy of a try schedule given for its units (tests pass a quick one)."""
    if like is None:
        return None
    return Backoff(initial=like.initial, cap=like.cap, factor=like.factor)
