"""Real pty pairs from socat (testbed.ptys), and waiting helpers for the serial driver tests.

socat is started and stopped by the test itself, so a test can pull the "cable"."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeVar

import pytest

from testbed import ptys

T = TypeVar("T")

# Generous: CI is a small, busy machine. Nothing here measures speed.
WAIT_S = 10.0


class PtyPair(ptys.PtyPair):
    """The test bed's pty pair, with the device's end held open for the test to write to:
    ``device_path`` is the driver's port, ``peer_path`` the device's end."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.device_path = self.agent_end
        self.peer_path = self.device_end
        self._peer_fd: int | None = None

    def _wait_until_ready(self) -> None:
        super()._wait_until_ready()
        self._peer_fd = os.open(self.peer_path, os.O_RDWR | os.O_NOCTTY)

    def stop(self) -> None:
        """Stop socat (the port vanishes for the driver); safe to call twice."""
        if self._peer_fd is not None:
            os.close(self._peer_fd)
            self._peer_fd = None
        super().stop()

    def write(self, data: bytes) -> None:
        """Send ``data`` as the device would."""
        assert self._peer_fd is not None, "socat is not running"
        view = memoryview(data)
        while view:
            view = view[os.write(self._peer_fd, view) :]


async def take(events: AsyncIterator[T], count: int) -> list[T]:
    """The next ``count`` items, failing after WAIT_S seconds."""
    async with asyncio.timeout(WAIT_S):
        return [await anext(events) for _ in range(count)]


async def nothing_more(events: AsyncIterator[T], wait_s: float = 0.3) -> None:
    """Assert that no item comes within ``wait_s`` (a short look, not a timing claim)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(wait_s):
            item = await anext(events)
            pytest.fail(f"unexpected item {item!r}")
