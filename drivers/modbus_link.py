"""One Modbus link, a TCP connection or a serial port, shared by every unit on it.

Requests on a link are serialised (a bus carries one request at a time, and most
gateways answer one at a time too), with a pause between them for slow devices. The
link reconnects in one place, after any transport error, with capped jittered backoff.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pymodbus.client.base import ModbusBaseClient
from pymodbus.exceptions import ModbusException

from contract.backoff import Backoff
from drivers.errors import DeviceUnavailable

log = logging.getLogger(__name__)

ClientFactory = Callable[[], ModbusBaseClient]
Request = Callable[[ModbusBaseClient], Awaitable[Any]]


class ModbusLink:
    """A lazily opened pymodbus client with a lock, a pause and a reconnect backoff."""

    def __init__(
        self, *, name: str, make_client: ClientFactory, pause_s: float, backoff: Backoff
    ) -> None:
        self.name = name
        self.pause_s = pause_s
        self.requests = 0
        self._make_client = make_client
        self._backoff = backoff
        self._lock = asyncio.Lock()
        self._client: ModbusBaseClient | None = None
        self._retry_at = 0.0
        self._last_done = 0.0
        self._was_up = True

    async def call(self, request: Request, *, deadline_s: float) -> Any:
        """Run one request on the link, alone; raise DeviceUnavailable on any transport error.

        ``deadline_s`` bounds the whole request even if the client's own timeout fails."""
        async with self._lock:
            wait = self._last_done + self.pause_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                client = await self._connected_client()
                self.requests += 1
                async with asyncio.timeout(deadline_s):
                    return await request(client)
            except (ModbusException, OSError, TimeoutError) as exc:
                # Anything but an answer leaves the link in doubt (a late reply would
                # be taken for the next one's): reconnect before the next request.
                self.drop()
                raise DeviceUnavailable(f"{self.name}: {exc or type(exc).__name__}") from exc
            finally:
                self._last_done = time.monotonic()

    async def _connected_client(self) -> ModbusBaseClient:
        if self._client is not None and self._client.connected:
            return self._client
        if time.monotonic() < self._retry_at:
            raise DeviceUnavailable(f"{self.name}: waiting to reconnect")
        self.drop()
        client = self._make_client()
        if not await client.connect():
            client.close()
            self._retry_at = time.monotonic() + self._backoff.next_delay()
            if self._was_up:
                log.warning("link %s is down: cannot connect", self.name)
            self._was_up = False
            raise DeviceUnavailable(f"{self.name}: cannot connect")
        self._client = client
        self._backoff.reset()
        if not self._was_up:
            log.info("link %s is up again", self.name)
        self._was_up = True
        return client

    def drop(self) -> None:
        """Close the connection; the next request opens a new one."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def close(self) -> None:
        self.drop()


def link_backoff(caps_s: list[float], like: Backoff | None) -> Backoff:
    """A link's reconnect backoff: like ``like`` (fresh state), or capped at the lowest cap."""
    if like is not None:
        return Backoff(initial=like.initial, cap=like.cap, factor=like.factor)
    return Backoff(cap=min(caps_s))
