"""Waiting for a condition, in a thread (``wait_until``) or on the event loop (``until``).

Both take the same arguments and behave alike: call ``probe`` every ``every`` seconds
until it returns something truthy, and return that; after ``timeout`` seconds fail with
``what`` and the last value seen. A probe that meets a server not listening yet (an HTTP
or socket error) is asked again; its last error is what the failure shows. Tests wait on
conditions, never on fixed sleeps, and nothing here measures how long a wait took.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")

# Generous: a loaded CI machine is slow, and a passing test never waits this long.
WAIT_S = 15.0
EVERY_S = 0.05


def _failure(what: str, last: Any) -> AssertionError:
    return AssertionError(f"timed out waiting for {what}; last seen: {last!r}")


def wait_until(
    probe: Callable[[], T],
    *,
    timeout: float = WAIT_S,
    what: str = "condition",
    every: float = EVERY_S,
) -> T:
    """Call ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            value = probe()
        except (httpx.HTTPError, OSError) as exc:
            last = exc
        else:
            if value:
                return value
            last = value
        if time.monotonic() > deadline:
            raise _failure(what, last)
        time.sleep(every)


async def until(
    probe: Callable[[], T],
    *,
    timeout: float = WAIT_S,  # noqa: ASYNC109  # the same arguments as wait_until's
    what: str = "condition",
    every: float = EVERY_S,
) -> T:
    """``wait_until`` on the event loop: other tasks run between the probe's calls."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            value = probe()
        except (httpx.HTTPError, OSError) as exc:
            last = exc
        else:
            if value:
                return value
            last = value
        if time.monotonic() > deadline:
            raise _failure(what, last)
        await asyncio.sleep(every)
