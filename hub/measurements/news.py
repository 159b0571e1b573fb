"""New measurements inside one hub: who must hear that points and readings were stored.

The measurement process reports each measurement message after its transaction
committed, and the hub announces it (``MeasurementEvent``: the edge's envelope, its
readings and its SPC points, each naming its station); the live chart page and a
time-series exporter listen. Unlike call changes, measurements come in floods: each
listener's queue is bounded, and a listener that falls behind loses the oldest
messages (counted in ``dropped``) rather than the hub's memory. The database stays the
truth for anyone who needs every point.

    with app.state.measurements.listen() as listener:
        while True:
            event = await listener.get()        # a MeasurementEvent
            for point in event.payload.points:  # SpcPoint: characteristic, value, tests...
                ...
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from contract.wire import MeasurementEvent
from hub.process.announcements import Announcements

LISTENER_QUEUE = 1000


class MeasurementListener:
    """One listener's queue: ``get()`` the next message; ``dropped`` counts what it missed."""

    def __init__(self, size: int) -> None:
        self._queue: asyncio.Queue[MeasurementEvent] = asyncio.Queue(maxsize=size)
        self.dropped = 0

    async def get(self) -> MeasurementEvent:
        return await self._queue.get()

    def get_nowait(self) -> MeasurementEvent:
        """The next message already there; raises asyncio.QueueEmpty when there is none."""
        return self._queue.get_nowait()

    def qsize(self) -> int:
        return self._queue.qsize()

    def put_nowait(self, event: MeasurementEvent) -> None:
        if self._queue.full():
            self._queue.get_nowait()  # the oldest goes: a live view wants the newest
            self.dropped += 1
        self._queue.put_nowait(event)


class MeasurementNews(Announcements[MeasurementEvent]):
    """Fan-out of stored measurement messages to the listeners on one event loop.

    ``announce`` may be called from any thread (the worker's reports arrive on one)."""

    @contextlib.contextmanager
    def listen(self, size: int = LISTENER_QUEUE) -> Iterator[MeasurementListener]:
        """A listener that receives every message stored from now on, until the block ends."""
        listener = MeasurementListener(size)
        with self.listening_with(listener):
            yield listener
