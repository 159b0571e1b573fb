"""News inside one hub: a fan-out of announcements to listeners on one event loop.

A listener gets everything announced after it started listening, in order. ``announce``
may be called from any thread (the API's sync routes run in a pool, the measurement
worker's reports arrive on a thread of their own); delivery happens on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class Listener(Protocol[T_contra]):
    """Where announcements go: a queue, or anything that takes an item without waiting."""

    def put_nowait(self, item: T_contra, /) -> None: ...


class Announcements(Generic[T]):
    """Fan-out of items to the listeners on one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._listeners: list[Listener[T]] = []

    @property
    def listening(self) -> bool:
        """Anyone listening (an announcer may skip work nobody would hear)."""
        return bool(self._listeners)

    def announce(self, *items: T) -> None:
        if not items:
            return
        if _on_loop(self._loop):
            self._deliver(items)
        else:
            self._loop.call_soon_threadsafe(self._deliver, items)

    @contextlib.contextmanager
    def listening_with(self, listener: Listener[T]) -> Iterator[None]:
        """``listener`` receives every item announced from now on, until the block ends."""
        self._listeners.append(listener)
        try:
            yield
        finally:
            self._listeners.remove(listener)

    def _deliver(self, items: tuple[T, ...]) -> None:
        for listener in self._listeners:
            for item in items:
                listener.put_nowait(item)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:  # no loop in this thread: a worker thread
        return False
