"""One measurement message per edge and poll cycle: readings and SPC points of every link.

Each link is polled by a poller of its own, and each reports the end of its cycle. The
readings and points of a cycle wait here until every link that reads measurements has
reported since the last message (one link: at once), or one poll interval has passed
(a slow or failing link does not hold back the others'), and then go to the outbox as
one droppable message, or as a few when one would exceed the wire's payload limit. The
recorder stores them in the same transaction as the cycle's anomalies.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from contract.wire import MAX_PAYLOAD_BYTES, PartRef
from edge.measurement_json import ReadingRow, measurement_payload_json, wrap_payload
from edge.outbox import MessageBuilder
from rules.spc.monitor import PointRow

# Room left under the payload limit for the envelope's fields.
ENVELOPE_ROOM = 1024


class MeasurementBatcher:
    """Gathers one cycle's readings and points into measurement messages for the outbox."""

    def __init__(
        self, *, topic: str, head: Callable[[int], dict[str, object]], interval_s: float
    ) -> None:
        self.topic = topic
        self.messages = 0
        self._head = head
        self.interval_s = interval_s
        self._readings: list[ReadingRow] = []
        self._points: list[PointRow] = []
        self._links: set[str] = set()  # links that read measurements
        self._reported: set[str] = set()  # links heard from since the last message
        self._last = time.monotonic()
        # Each measurement's unit (name to unit), which its points carry on the wire.
        self.units: dict[str, str] = {}

    def add(
        self,
        link: str,
        readings: list[ReadingRow],
        points: list[PointRow],
        parts: Mapping[str, PartRef],
    ) -> list[MessageBuilder]:
        """One link's cycle; the messages to store now (none while other links are awaited)."""
        self._links.add(link)
        self._reported.add(link)
        self._readings += readings
        self._points += points
        now = time.monotonic()
        if self._reported >= self._links or now - self._last >= self.interval_s:
            return self.flush(parts, now=now)
        return []

    def flush(
        self, parts: Mapping[str, PartRef], *, now: float | None = None
    ) -> list[MessageBuilder]:
        """The messages of what waits (at a stop or a reload too)."""
        self._reported.clear()
        self._last = time.monotonic() if now is None else now
        readings, points = self._readings, self._points
        self._readings, self._points = [], []
        if not readings and not points:
            return []
        bodies = _payloads(readings, points, dict(parts), self.units)
        self.messages += len(bodies)
        return [self._builder(body) for body in bodies]

    def forget_links(self) -> None:
        """The links change (a reload): learn them again from their first cycles."""
        self._links.clear()
        self._reported.clear()

    def _builder(self, payload: str) -> MessageBuilder:
        topic, head = self.topic, self._head

        def build(seq: int) -> tuple[str, str]:
            return topic, wrap_payload(head(seq), payload)

        return build


def _payloads(
    readings: list[ReadingRow],
    points: list[PointRow],
    parts: dict[str, PartRef],
    units: Mapping[str, str],
) -> list[str]:
    """The payloads' JSON, split in halves until each fits under the payload limit."""
    body = measurement_payload_json(readings, points, parts, units)
    if len(body.encode()) <= MAX_PAYLOAD_BYTES - ENVELOPE_ROOM or len(readings) + len(points) < 2:
        return [body]
    half_r, half_p = len(readings) // 2, len(points) // 2
    if not half_r and not half_p:  # one reading and one point
        return _payloads(readings, [], parts, units) + _payloads([], points, parts, units)
    return _payloads(readings[:half_r], points[:half_p], parts, units) + _payloads(
        readings[half_r:], points[half_p:], parts, units
    )
