"""Ingest in a process of its own: validating and committing run on one core while the
hub's main process receives MQTT messages (and serves the API) on another.

In one process both would share one interpreter lock and their costs would add up; a
batch crosses the pipe as raw (topic, payload) pairs and comes back as a BatchReport.
The main process acknowledges a batch only after the report says it was committed. If
the worker fails, hangs or dies, the batch is not acknowledged and the broker delivers
it again; the next batch starts a new worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from hub.calls.repository import Store
from hub.config.file import HubConfig
from hub.db.engine import database_url, open_engine
from hub.edges.dead_letters import describe, is_outage, refused_by_database
from hub.edges.ingest import BatchReport, Ingest
from hub.process.workers import begin_worker, start_worker

log = logging.getLogger(__name__)

# A batch that takes longer than this is given up (and redelivered): the database's own
# lock and statement timeouts are far shorter, so only a hung worker gets here.
BATCH_TIMEOUT_S = 60.0


class IngestFailed(Exception):
    """The worker could not commit a batch (its database failed, or it hung or died)."""


class IngestWorker:
    """``apply()`` a batch in the worker process; thread-safe, one batch at a time."""

    def __init__(self, config: HubConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._process: Any = None
        self._conn: Connection | None = None
        self._stopped = False

    def start(self) -> None:
        """Start the worker now rather than at the first message (it takes a moment)."""
        with self._lock:
            self._connection()

    def apply(self, messages: Sequence[tuple[str, bytes]]) -> BatchReport:
        with self._lock:
            conn = self._connection()
            try:
                conn.send(("batch", list(messages)))
                if not conn.poll(BATCH_TIMEOUT_S):
                    raise IngestFailed(f"no answer from the ingest worker in {BATCH_TIMEOUT_S} s")
                kind, body = conn.recv()
            except (EOFError, OSError, IngestFailed) as exc:
                self._drop()
                raise IngestFailed(f"the ingest worker failed: {exc}") from exc
        if kind == "error":
            raise IngestFailed(body)
        report: BatchReport = body
        return report

    def use_config(self, config: HubConfig) -> None:
        """The configuration the next batches are checked against (after a reload)."""
        with self._lock:
            self._config = config
            if self._conn is not None:
                try:
                    self._conn.send(("config", config.model_dump(mode="json")))
                except OSError:
                    self._drop()  # the next batch starts a worker with the new configuration

    def stop(self) -> None:
        """End the worker at once, even during a batch (whose messages are redelivered)."""
        self._stopped = True
        process = self._process
        if process is not None and process.is_alive():
            process.terminate()
        with self._lock:
            self._drop()

    def _connection(self) -> Connection:
        if self._stopped:
            raise IngestFailed("the hub is stopping")
        if self._conn is None:
            settings = self._config.model_dump(mode="json")
            self._process, self._conn = start_worker(
                serve, name="andon-hub-ingest", settings=settings
            )
        return self._conn

    def _drop(self) -> None:
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            conn.close()  # the worker sees end-of-file and exits
        if process is not None:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()


def serve(conn: Connection, settings: dict[str, Any], log_level: int) -> None:
    """The worker's loop: batches in, reports out, until the pipe closes."""
    # The hub stops its worker by closing the pipe once the batch in hand is done.
    begin_worker(log_level)
    config = [HubConfig.model_validate(settings)]
    engine = open_engine(database_url(config[0].storage))
    ingest = Ingest(config=lambda: config[0], store=Store(engine))
    try:
        while True:
            try:
                kind, body = conn.recv()
            except EOFError:
                return
            if kind == "config":
                config[0] = HubConfig.model_validate(body)
            else:
                conn.send(_apply(ingest, body))
    finally:
        engine.dispose()


def _apply(ingest: Ingest, messages: list[tuple[str, bytes]]) -> tuple[str, Any]:
    """("report", BatchReport), or ("error", why) when the database itself failed."""
    try:
        return "report", _apply_apart(ingest, messages)
    except SQLAlchemyError as exc:  # an outage: set_aside's own write fails only so
        return "error", f"{type(exc).__name__}: {exc}"


def _apply_apart(ingest: Ingest, messages: list[tuple[str, bytes]]) -> BatchReport:
    """Apply ``messages`` in one transaction; if it fails on content (a message the
    database refuses, or a fault of our own), apply each half apart, down to the message
    at fault, which is set aside. Raises on an outage: nothing is set aside for it.

    Halving finds one bad message among a thousand in some twenty transactions, where
    one transaction a message would hold the good ones back for seconds."""
    try:
        return ingest.handle_batch(messages)
    except Exception as exc:
        if is_outage(exc):
            raise
        if len(messages) == 1:
            if not refused_by_database(exc):
                log.exception("the hub could not apply a message on %s", messages[0][0])
            return ingest.set_aside(*messages[0], exc)
        log.warning(
            "a batch of %d failed on a message's content (%s); applying it in halves",
            len(messages),
            describe(exc),
        )
    middle = len(messages) // 2
    report = _apply_apart(ingest, messages[:middle])
    report.extend(_apply_apart(ingest, messages[middle:]))
    return report
