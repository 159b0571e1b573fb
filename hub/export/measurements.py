"""The measurement sources of the time-series export: readings and SPC points.

Each listens to the hub's measurement news (``app.state.measurements``) with a queue of
its own and turns every stored measurement message into line protocol for the exporter:

- ``andon_measurement``: one point per reading, tagged ``site``, ``area``, ``line``,
  ``station``, ``measurement`` (the reading's name) and ``unit`` (when it has one), field
  ``value``. Numbers are written as floats, so that a value read once as an integer and
  once as a float is still one series (InfluxDB refuses a field whose type changes);
  booleans as 1.0 and 0.0. A string (a recipe, a state name) cannot be a value: it becomes
  ``andon_measurement_text`` with the text in the ``text`` tag and ``count`` 1, which a
  state timeline can show.
- ``andon_spc``: one point per charted subgroup, tagged ``site``, ``area``, ``line``,
  ``station``, ``characteristic``, ``chart`` and ``measurement``, fields ``value``,
  ``center``, ``lcl``, ``ucl``, ``subgroup`` and ``failed_tests`` (how many of the
  Western Electric tests the subgroup failed; 0 mostly).

Converting takes time (influxdb-client escapes each point), so it runs in a worker
thread, not on the hub's event loop. Messages arrive in floods; a source that falls
behind loses the oldest messages in its listener, and those are counted as dropped for
the source like points that did not fit the export queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from contract.wire import MeasurementEvent, MeasurementReading, SpcPoint
from hub.export.timeseries import Emit, line_protocol
from hub.measurements.news import MeasurementListener, MeasurementNews
from hub.process.metrics import HubMetrics

# Messages a source keeps while the exporter's loop is busy: a few seconds of a large site.
LISTENER_SIZE = 10000
# Messages converted in one trip to a worker thread when they queued up.
BATCH_MESSAGES = 100


def _place(event: MeasurementEvent, station: str) -> dict[str, str]:
    return {"site": event.site, "area": event.area, "line": event.line, "station": station}


def reading_point(event: MeasurementEvent, reading: MeasurementReading) -> str:
    """One reading as line protocol, at the poll cycle's time."""
    tags = _place(event, reading.station) | {"measurement": reading.name}
    if reading.unit:
        tags["unit"] = reading.unit
    value = reading.value
    if isinstance(value, str):
        tags["text"] = value
        return line_protocol("andon_measurement_text", tags=tags, fields={"count": 1}, at=event.ts)
    # bool is an int in Python: True and False become 1.0 and 0.0 here too.
    fields: dict[str, float | int] = {"value": float(value)}
    return line_protocol("andon_measurement", tags=tags, fields=fields, at=event.ts)


def spc_point(event: MeasurementEvent, point: SpcPoint) -> str:
    """One charted subgroup with its chart's lines, at the poll cycle's time."""
    tags = _place(event, point.station) | {
        "characteristic": point.characteristic,
        "chart": point.chart,
        "measurement": point.measurement,
    }
    fields: dict[str, float | int] = {
        "value": point.value,
        "center": point.center,
        "lcl": point.lcl,
        "ucl": point.ucl,
        "subgroup": point.subgroup,
        "failed_tests": len(point.tests),
    }
    return line_protocol("andon_spc", tags=tags, fields=fields, at=event.ts)


def reading_lines(event: MeasurementEvent) -> list[str]:
    return [reading_point(event, reading) for reading in event.payload.readings]


def spc_lines(event: MeasurementEvent) -> list[str]:
    return [spc_point(event, point) for point in event.payload.points]


class _Lines(Protocol):
    def __call__(self, event: MeasurementEvent, /) -> list[str]: ...


class MeasurementSource:
    """Stored measurement messages as points of one kind (``lines`` makes them)."""

    def __init__(
        self,
        *,
        name: str,
        news: MeasurementNews,
        lines: _Lines,
        metrics: HubMetrics,
        size: int = LISTENER_SIZE,
    ) -> None:
        self.name = name
        self.news = news
        self.lines = lines
        self.metrics = metrics
        self.size = size

    async def run(self, emit: Emit) -> None:
        with self.news.listen(size=self.size) as listener:
            counted = 0
            while True:
                events = [await listener.get()]
                while len(events) < BATCH_MESSAGES and listener.qsize():
                    events.append(listener.get_nowait())
                counted = self._count_missed(listener, counted)
                # Some 30 µs a point through influxdb-client's Point: a message of 500
                # readings would hold the hub's event loop (and its calls) for 15 ms.
                lines = await asyncio.to_thread(self._convert, events)
                if lines:
                    emit(self.name, lines)

    def _convert(self, events: list[MeasurementEvent]) -> list[str]:
        return [line for event in events for line in self.lines(event)]

    def _count_missed(self, listener: MeasurementListener, counted: int) -> int:
        """Messages the listener dropped since the last look, counted as this source's."""
        if listener.dropped > counted:
            self.metrics.timeseries_dropped.labels(self.name).inc(listener.dropped - counted)
        return listener.dropped


def measurement_sources(news: MeasurementNews, metrics: HubMetrics) -> list[MeasurementSource]:
    """The ``measurements`` (readings) and ``spc`` (points) sources."""
    makers: dict[str, Callable[[MeasurementEvent], list[str]]] = {
        "measurements": reading_lines,
        "spc": spc_lines,
    }
    return [
        MeasurementSource(name=name, news=news, lines=lines, metrics=metrics)
        for name, lines in makers.items()
    ]
