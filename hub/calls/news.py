"""Call changes inside one hub: the ones who must hear that a station's calls changed.

Ingest (after its commit), the API's transitions and the escalation engine announce a
change; the escalation engine, the light publisher and the board's live updates listen.
A listener gets every change announced after it started listening, in order. The
database stays the truth: a listener that falls behind or restarts reads the rows again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from hub.process.announcements import Announcements


@dataclass(frozen=True)
class CallChange:
    """Call ``call_id`` at a station changed by ``action`` (raised, joined, acknowledged,
    arrived, resolved, verified, cancelled, escalated, ...)."""

    call_id: int
    area: str
    line: str
    station: str
    action: str


class CallChanges(Announcements[CallChange]):
    """Fan-out of call changes to the listeners on one event loop.

    ``announce`` may be called from any thread (the API's sync routes run in a pool)."""

    @contextlib.contextmanager
    def listen(self) -> Iterator[asyncio.Queue[CallChange]]:
        """A queue that receives every change from now on, until the block ends."""
        queue: asyncio.Queue[CallChange] = asyncio.Queue()
        with self.listening_with(queue):
            yield queue
