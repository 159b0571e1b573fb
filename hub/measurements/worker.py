"""The measurement path in a process of its own, at a lower CPU priority than calls.

In the hub's main process a flood of measurement messages (tens of kilobytes each,
hundreds a second) would share one interpreter lock and one event loop with the call
subscriber and the API, and delay calls by tens of milliseconds. In a process of its own,
niced below the rest of the hub, it takes what CPU the call path leaves. The worker
sends back, after each commit, the payloads it stored and its counts; a thread of the
main process turns the counts into metrics and, while anyone listens, the payloads into
``MeasurementNews`` announcements. If the worker dies it is started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from multiprocessing.connection import Connection
from typing import Any

from contract.wire import MEASUREMENT_EVENT, MeasurementEvent
from hub.calls.repository import Store
from hub.config.file import HubConfig
from hub.db.engine import database_url, open_engine
from hub.measurements.intake import MeasurementMetrics
from hub.measurements.news import MeasurementNews
from hub.measurements.repository import MeasurementStore
from hub.measurements.subscription import MeasurementSubscriber, MeasurementTally
from hub.process.metrics import HubMetrics
from hub.process.workers import begin_worker, start_worker

log = logging.getLogger(__name__)

NICENESS = 10  # below the call path: the kernel gives calls the CPU first
RESTART_AFTER_S = 1.0
TALLY_EVERY_S = 1.0


class MeasurementWorker:
    """Starts, feeds and watches the measurement process; relays what it reports."""

    def __init__(self, *, config: HubConfig, news: MeasurementNews, metrics: HubMetrics) -> None:
        self._config = config
        self.news = news
        self.metrics = metrics
        self.own = MeasurementMetrics(metrics.registry)
        self._stopped = threading.Event()
        # Whether the measurement process is subscribed at the broker (for /healthz).
        self.subscribed = threading.Event()
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._process: Any = None
        self._relay = threading.Thread(target=self._supervise, name="hub-measurements", daemon=True)

    def start(self) -> None:
        self._relay.start()

    def use_config(self, config: HubConfig) -> None:
        """The configuration the worker checks messages against from now on (a reload)."""
        with self._lock:
            self._config = config
            if self._conn is not None:
                with contextlib.suppress(OSError):
                    self._conn.send(("config", config.model_dump(mode="json")))

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            process, conn = self._process, self._conn
        if process is not None and process.is_alive():
            process.terminate()
            process.join(timeout=5)
        if conn is not None:
            conn.close()
        self._relay.join(timeout=5)

    def _supervise(self) -> None:
        while not self._stopped.is_set():
            conn = self._spawn()
            with contextlib.suppress(EOFError, OSError):
                self._relay_from(conn)
            self.subscribed.clear()
            if not self._stopped.wait(RESTART_AFTER_S):
                log.error("the measurement process ended; starting it again")

    def _spawn(self) -> Connection:
        with self._lock:
            settings = self._config.model_dump(mode="json")
            process, conn = start_worker(
                serve, name="andon-hub-measurements", settings=settings, niceness=NICENESS
            )
            self._process, self._conn = process, conn
        return conn

    def _relay_from(self, conn: Connection) -> None:
        while not self._stopped.is_set():
            kind, payloads, tally = conn.recv()
            self._count(tally)
            if kind == "stored" and payloads and self.news.listening:
                events = [MEASUREMENT_EVENT.validate_json(payload) for payload in payloads]
                self.news.announce(*events)

    def _count(self, tally: MeasurementTally) -> None:
        own = self.own
        if tally.subscribed:
            self.subscribed.set()
        else:
            self.subscribed.clear()
        for outcome, count in tally.outcomes.items():
            own.received.labels(outcome).inc(count)
        for reason, count in tally.rejected.items():
            self.metrics.rejected.labels(reason).inc(count)
        for how, count in tally.counter_readings.items():
            own.counter_steps.labels(how).inc(count)
        own.points.inc(tally.points)
        own.pruned.inc(tally.pruned)
        own.waiting.set(tally.waiting)


def serve(conn: Connection, settings: dict[str, Any], log_level: int) -> None:
    """The measurement process: subscribe, store, report, until the pipe closes."""
    begin_worker(log_level)  # the hub stops it, Ctrl-C or not
    with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
        asyncio.run(_serve(conn, HubConfig.model_validate(settings)))


async def _serve(conn: Connection, config: HubConfig) -> None:
    current = [config]
    engine = open_engine(database_url(config.storage))

    def stored(events: list[tuple[MeasurementEvent, bytes]]) -> None:
        conn.send(("stored", [payload for _, payload in events], subscriber.tally.take()))

    subscriber = MeasurementSubscriber(
        config=lambda: current[0], store=MeasurementStore(Store(engine)), on_stored=stored
    )
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    threading.Thread(
        target=_listen, args=(conn, current, loop, main), name="control", daemon=True
    ).start()
    reporter = asyncio.create_task(_report(conn, subscriber), name="tally")
    try:
        await subscriber.run()
    finally:
        reporter.cancel()
        engine.dispose()


async def _report(conn: Connection, subscriber: MeasurementSubscriber) -> None:
    """Counts reach the main process every second, even while nothing is stored."""
    while True:
        await asyncio.sleep(TALLY_EVERY_S)
        conn.send(("tally", [], subscriber.tally.take()))


def _listen(
    conn: Connection,
    current: list[HubConfig],
    loop: asyncio.AbstractEventLoop,
    main: asyncio.Task[None],
) -> None:
    """Configuration changes from the main process; its end (the pipe closes) stops us."""
    while True:
        try:
            kind, body = conn.recv()
        except (EOFError, OSError):
            loop.call_soon_threadsafe(main.cancel)
            return
        if kind == "config":
            current[0] = HubConfig.model_validate(body)
