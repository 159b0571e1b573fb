"""Real pty pairs from socat, and waiting helpers for the serial driver tests.

socat is started and stopped by the test itself, so a test can pull the "cable"."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")

# Generous: CI is a small, busy machine. Nothing here measures speed.
WAIT_S = 10.0


class PtyPair:
    """``socat`` joining two ptys: ``device_path`` for the driver, ``peer_path`` for us."""

    def __init__(self, folder: Path) -> None:
        self.device_path = folder / "device"
        self.peer_path = folder / "peer"
        self._log_path = folder / "socat.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._peer_fd: int | None = None

    def start(self) -> None:
        """Start socat and wait until both links exist."""
        assert self._process is None, "already started"
        for link in (self.device_path, self.peer_path):
            link.unlink(missing_ok=True)  # left by a socat that was killed, not stopped
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    "socat",
                    "-d",
                    "-d",
                    f"pty,raw,echo=0,link={self.device_path}",
                    f"pty,raw,echo=0,link={self.peer_path}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + WAIT_S
        while not (self.device_path.exists() and self.peer_path.exists()):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"socat did not start: {self._log_path.read_text()}")
            time.sleep(0.01)
        try:
            self._peer_fd = os.open(self.peer_path, os.O_RDWR | os.O_NOCTTY)
        except OSError:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop socat (the port vanishes for the driver); safe to call twice."""
        if self._peer_fd is not None:
            os.close(self._peer_fd)
            self._peer_fd = None
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def write(self, data: bytes) -> None:
        """Send ``data`` as the device would."""
        assert self._peer_fd is not None, "socat is not running"
        view = memoryview(data)
        while view:
            view = view[os.write(self._peer_fd, view) :]


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait until ``condition()`` holds, failing after WAIT_S seconds."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        await asyncio.sleep(0.01)


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
