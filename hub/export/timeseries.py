"""Copy the hub's data to a time-series database through the InfluxDB v2 write API.

InfluxDB 2.x and 3.x and VictoriaMetrics accept it. Sources (one small adapter each:
call events here; readings and SPC points in ``hub.export.measurements``) turn what happens in
the hub into line protocol and ``offer`` it; one writer task sends batches. Ingest never
waits for the database: the queue is bounded, and what does not fit is dropped and
counted (``andon_hub_timeseries_dropped_total``). A batch the database did not take is
retried with backoff; one it refuses as malformed (a 4xx answer) is counted and dropped.
The hub's own database stays the record; the time series are a copy for dashboards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

import urllib3

from contract.backoff import Backoff
from contract.secrets import resolve_secrets
from contract.wire import utc_now
from hub.calls.lifecycle import CallState
from hub.calls.news import CallChange, CallChanges
from hub.calls.records import Call
from hub.calls.repository import CallNotFound, Store
from hub.config.file import HubConfig, TimeseriesConfig
from hub.process.metrics import HubMetrics

# influxdb-client is imported where it is used: it brings numpy and some 40 MB with it,
# which a hub that exports nothing should not carry.
if TYPE_CHECKING:
    from influxdb_client.client.write_api import WriteApi
    from influxdb_client.domain.write_precision import WritePrecision

log = logging.getLogger(__name__)

# WritePrecision's constants are plain strings (this is WritePrecision.MS); its methods
# are annotated with the class.
MILLISECONDS = cast("WritePrecision", "ms")

Emit = Callable[[str, Iterable[str]], None]
"""How a source hands over points: its name and their line protocol."""


class PointSource(Protocol):
    """Something in the hub that produces time-series points, one adapter per kind."""

    name: str

    async def run(self, emit: Emit) -> None:
        """Produce points until cancelled, handing each batch of lines to ``emit``."""
        ...  # pragma: no cover


class TimeseriesExporter:
    """A bounded queue of line-protocol points and the task that writes them in batches."""

    def __init__(
        self,
        *,
        settings: TimeseriesConfig,
        metrics: HubMetrics,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=settings.queue_size)

    def offer(self, source: str, lines: Iterable[str]) -> None:
        """Queue points without waiting; those that do not fit are dropped and counted."""
        for line in lines:
            try:
                self._queue.put_nowait(line)
            except asyncio.QueueFull:
                self.metrics.timeseries_dropped.labels(source).inc()

    async def run(self) -> None:
        """Write batches until cancelled."""
        from influxdb_client.client.influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS

        settings = self.settings
        token = None if settings.token is None else resolve_secrets(settings.token)
        client = InfluxDBClient(
            url=settings.url,
            token=token or "",
            org=settings.org,
            timeout=int(settings.timeout_s * 1000),
            retries=False,  # retried here, with backoff, without holding up the queue
        )
        try:
            writer = client.write_api(write_options=SYNCHRONOUS)
            while True:
                await self._write(writer, await self._next_batch())
        finally:
            client.close()  # type: ignore[no-untyped-call]

    async def _next_batch(self) -> list[str]:
        """Up to ``batch_size`` points: what is there once the first arrived, waiting at
        most ``flush_interval_s`` for the rest."""
        batch = [await self._queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.flush_interval_s
        while len(batch) < self.settings.batch_size:
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                # Not asyncio.wait_for: on Python 3.11 it can swallow a cancel that lands
                # as a point arrives, and the hub's stop then waits here for ever.
                async with asyncio.timeout(remaining):
                    batch.append(await self._queue.get())
            except TimeoutError:
                break
        return batch

    async def _write(self, writer: WriteApi, batch: list[str]) -> None:
        from influxdb_client.rest import ApiException

        backoff = Backoff(initial=0.5, cap=30.0)
        while True:
            try:
                await asyncio.to_thread(
                    writer.write,
                    bucket=self.settings.bucket,
                    org=self.settings.org,
                    record=batch,
                    write_precision=MILLISECONDS,
                )
            except ApiException as exc:
                if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
                    log.error("time-series database refused %d points: %s", len(batch), exc.reason)
                    self.metrics.timeseries_refused.inc(len(batch))
                    return
                self._failed(exc)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                self._failed(exc)
            else:
                if backoff.failures:
                    log.info("time-series database takes points again")
                self.metrics.timeseries_written.inc(len(batch))
                return
            await asyncio.sleep(backoff.next_delay())

    def _failed(self, exc: Exception) -> None:
        self.metrics.timeseries_write_failures.inc()
        log.warning("time-series write failed, retrying: %s", exc)


# The moment each action happened, as the call keeps it.
_ACTION_STAMPS = {
    "raised": "raised_at",
    CallState.ACKNOWLEDGED.value: "acknowledged_at",
    CallState.ARRIVED.value: "arrived_at",
    CallState.RESOLVED.value: "resolved_at",
    CallState.VERIFIED.value: "verified_at",
    CallState.CANCELLED.value: "cancelled_at",
    "line_stop": "line_stop_at",
}
_CLOSING = {CallState.RESOLVED.value, CallState.CANCELLED.value}


def line_protocol(
    measurement: str, *, tags: dict[str, str], fields: dict[str, float | int], at: datetime
) -> str:
    """One point as line protocol, escaped by influxdb-client (its Point is untyped)."""
    from influxdb_client.client.write.point import Point

    point = Point(measurement)  # type: ignore[no-untyped-call]
    for key, value in tags.items():
        point.tag(key, value)  # type: ignore[no-untyped-call]
    for key, number in fields.items():
        point.field(key, number)  # type: ignore[no-untyped-call]
    point.time(at, MILLISECONDS)  # type: ignore[no-untyped-call]
    return str(point.to_line_protocol())  # type: ignore[no-untyped-call]


def call_point(call: Call, action: str, *, now: datetime) -> str:
    """One call event as line protocol: ``andon_call`` with the call's tags, a count and
    the durations known at that moment (seconds from the press). The call is read back
    after the change, so it may have moved on since: what it did later is left out."""
    stamp: datetime = getattr(call, _ACTION_STAMPS.get(action, ""), None) or now
    durations = call.durations_at(stamp)
    fields: dict[str, float | int] = {"count": 1}
    for name in ("to_acknowledge_s", "to_arrive_s", "to_resolve_s"):
        value = getattr(durations, name)
        if value is not None:
            fields[name] = float(value)
    if action in _CLOSING:
        fields["unattended_s"] = float(durations.unattended_s)
    tags = {
        "site": call.site,
        "area": call.area,
        "line": call.line,
        "station": call.station,
        "call_type": call.call_type,
        "action": action,
    }
    return line_protocol("andon_call", tags=tags, fields=fields, at=stamp)


class CallEventSource:
    """Every call change announced in the hub, read back from the store with its times."""

    name = "calls"

    def __init__(self, *, changes: CallChanges, store: Store, now: Callable[[], datetime]) -> None:
        self.changes = changes
        self.store = store
        self.now = now

    async def run(self, emit: Emit) -> None:
        with self.changes.listen() as queue:
            while True:
                change = await queue.get()
                line = await asyncio.to_thread(self._point, change)
                if line is not None:
                    emit(self.name, [line])

    def _point(self, change: CallChange) -> str | None:
        try:
            call = self.store.get_call(change.call_id)
        except CallNotFound:
            return None
        return call_point(call, change.action, now=self.now())


@contextlib.asynccontextmanager
async def exporting(
    exporter: TimeseriesExporter, sources: list[PointSource]
) -> AsyncIterator[None]:
    """The writer and every source as named tasks for the block's duration."""
    jobs: list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = [("writer", exporter.run)]
    jobs += [(source.name, _bound(source, exporter.offer)) for source in sources]
    tasks = [asyncio.create_task(job(), name=f"hub-timeseries-{name}") for name, job in jobs]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _bound(source: PointSource, emit: Emit) -> Callable[[], Coroutine[Any, Any, None]]:
    async def run() -> None:
        await source.run(emit)

    return run


@contextlib.asynccontextmanager
async def timeseries_export(
    config: HubConfig,
    *,
    changes: CallChanges,
    store: Store,
    metrics: HubMetrics,
    more_sources: Sequence[PointSource] = (),
) -> AsyncIterator[None]:
    """The hub's export for the block's duration, if its file has a ``timeseries`` section:
    call events and ``more_sources``."""
    if config.timeseries is None:
        yield
        return
    exporter = TimeseriesExporter(settings=config.timeseries, metrics=metrics)
    sources: list[PointSource] = [CallEventSource(changes=changes, store=store, now=utc_now)]
    sources += more_sources
    async with exporting(exporter, sources):
        yield
