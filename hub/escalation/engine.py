"""The escalation engine: one task in the hub's lifespan, its state in database rows.

A pass (``tick``) takes what is due in one transaction (steps, line stops, retries,
attempts cut off by a stop, SPC alarm groups) and queues the messages; they are then
claimed and sent by a bounded pool of threads, so a slow channel never holds up
ingest, the API or the next pass. A pass runs at once when a call changes (level 0
goes out when the call is raised, not on the next tick) and every ``tick_s`` besides,
so a later level leaves well within a second of its due time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import Connection

from contract.wire import utc_now
from hub.calls.escalation_rows import STOPPED
from hub.calls.news import CallChange, CallChanges
from hub.calls.repository import Store
from hub.config.escalation import EscalationConfig
from hub.config.file import HubConfig
from hub.db.tables import alarm_groups, anomalies, escalations, hub_state, notifications
from hub.escalation import alarms, deliveries, notices, pipeline, steps
from hub.escalation.channels import SendFailed, send
from hub.escalation.links import LinkMaker, link_key
from hub.escalation.snapshot import public_url
from hub.escalation.system_calls import (
    CHANNEL_FAILING_CALL,
    NOTIFICATIONS_LINE,
    raise_system_call,
)
from hub.shifts.override_rows import covers_during

log = logging.getLogger(__name__)
T = TypeVar("T")

TICK_S = 0.2
WORKERS = 8
LEASE_MARGIN_S = 5.0


class EscalationEngine:
    """Runs until cancelled or ``stop()``; several hubs may run one on a shared database."""

    def __init__(
        self,
        *,
        store: Store,
        config: Callable[[], HubConfig],
        changes: CallChanges | None = None,
        tick_s: float = TICK_S,
        workers: int = WORKERS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        # What a pass takes as now: the wall clock, or a moment a test or a replay chooses.
        self.clock = clock
        self.config = config
        self.changes = changes
        self.tick_s = tick_s
        self.workers = workers
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="andon-notify")
        # The engine's database work runs here, so that stopping can wait for it to end
        # before the hub closes the database.
        self._db = ThreadPoolExecutor(max_workers=2, thread_name_prefix="andon-escalation")
        self._inflight: set[int] = set()
        self._key: bytes | None = None
        self.more = False  # the last pass left due steps behind: run the next one at once

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def wake(self) -> None:
        """Run a pass now (a call changed)."""
        self._wake.set()

    async def run(self) -> None:
        try:
            if self.changes is None:
                await self._loop()
                return
            with self.changes.listen() as heard:
                async with asyncio.TaskGroup() as group:
                    group.create_task(self._listen(heard), name="escalation-listen")
                    group.create_task(self._loop(), name="escalation-pass")
        finally:
            self._pool.shutdown(wait=False, cancel_futures=True)
            # Wait for the database work in flight, even through further cancellations:
            # the hub closes the database next, and a pass cut off mid-way would leave
            # its connection behind.
            done = asyncio.get_running_loop().run_in_executor(None, self._db.shutdown)
            while not done.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(done)

    async def _in_db(self, work: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._db, work, *args)

    async def _listen(self, heard: asyncio.Queue[CallChange]) -> None:
        while not self._stopping.is_set():
            await heard.get()
            self._wake.set()

    async def _loop(self) -> None:
        async with asyncio.TaskGroup() as sends:
            while not self._stopping.is_set():
                self._wake.clear()
                try:
                    claimed = await self._in_db(self.tick, self.clock())
                except Exception:  # a database hiccup must not end escalation for good
                    log.exception("escalation pass failed; trying again")
                    claimed = []
                for row in claimed:
                    self._inflight.add(int(row["id"]))
                    sends.create_task(self._send(row), name=f"notify-{row['id']}")
                if self._stopping.is_set():
                    return
                # Not asyncio.wait_for: on Python 3.11 it can swallow a cancel that lands
                # as the wake-up comes, and the hub's stop could then wait for ever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.tick_s):
                        await self._wake.wait()
            raise asyncio.CancelledError  # leave the group: sends in flight are cancelled

    # -- one pass ----------------------------------------------------------------------

    def tick(self, now: datetime) -> list[dict[str, Any]]:
        """Queue what is due, then claim what this hub can send now; the claimed rows."""
        config = self.config()
        settings = config.escalation or EscalationConfig()
        self.more = False
        with self.store.read() as conn:
            waiting = _work_waiting(conn, now, settings.anomaly_interval_s)
        if waiting:
            with self.store.write() as conn:
                changes = self._take_due(conn, config, settings, now)
            if self.changes is not None:
                self.changes.announce(*changes)
        free = self.workers * 2 - len(self._inflight)
        if free <= 0:
            return []
        with self.store.read() as conn:
            ids = deliveries.queued_ids(conn, free)
        if not ids:
            return []
        lease = settings.send_timeout_s + LEASE_MARGIN_S
        with self.store.write() as conn:
            return [row for i in ids if (row := deliveries.claim(conn, i, now, lease))]

    def _take_due(
        self, conn: Connection, config: HubConfig, settings: EscalationConfig, now: datetime
    ) -> list[CallChange]:
        if self._key is None:
            self._key = link_key(conn)
        link = LinkMaker(
            key=self._key, base_url=public_url(config), ttl_s=settings.ack_link_ttl_s, now=now
        )
        covers = tuple(
            c for c in covers_during(conn, now, now) if any(p.id == c.person for p in config.people)
        )
        ctx = pipeline.Context(
            now=now,
            ack_link=link,
            retry=settings.retry,
            covers=covers,
            stand_ins={p.id: p for p in config.people if any(c.person == p.id for c in covers)},
        )
        # One batch of steps per transaction, so that ingest's writes are not held up
        # behind a thousand calls falling due at once; a full batch asks for another pass.
        done = steps.take_due_steps(conn, ctx)
        self.more = done.full
        changes = list(done.changes)
        changes += steps.take_due_line_stops(conn, now)
        deliveries.requeue_due_retries(conn, now)
        deliveries.resolve_cut_off(conn, now)
        alarms.take_alarms(conn, config, ctx)
        return changes

    # -- sending -----------------------------------------------------------------------

    async def _send(self, row: dict[str, Any]) -> None:
        settings = self.config().escalation or EscalationConfig()
        error: str | None = None
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._pool,
                lambda: send(
                    row["url"], row["body"], key=row["key"], timeout_s=settings.send_timeout_s
                ),
            )
        except SendFailed as exc:
            error = str(exc)
        except Exception as exc:
            log.exception("notification %s failed in the hub", row["id"])
            error = f"the hub failed to send it: {type(exc).__name__}"
        try:
            await self._in_db(self._record_outcome, row, error, self.clock())
        finally:
            self._inflight.discard(int(row["id"]))
        if error is not None:
            log.warning("notification %s through %s failed: %s", row["id"], row["channel"], error)

    def _record_outcome(self, row: dict[str, Any], error: str | None, now: datetime) -> None:
        config = self.config()
        settings = config.escalation or EscalationConfig()
        change = None
        with self.store.write() as conn:
            if error is None:
                deliveries.finish(conn, row["id"], now, error=None)
                return
            failed = _as_outgoing(row, error)
            ctx = pipeline.Context(now=now, retry=settings.retry)
            (retried,) = pipeline.retry([failed], ctx)
            (attempt,) = retried.outgoing
            deliveries.finish(
                conn,
                row["id"],
                now,
                error=error,
                retry_at=None if attempt.gave_up else attempt.retry_at,
            )
            if attempt.gave_up and not _is_system_notice(conn, row):
                change = _channel_failing(conn, config, row, error, now)
        if change is not None and self.changes is not None:
            self.changes.announce(change)


def _as_outgoing(row: dict[str, Any], error: str) -> notices.Notice:
    recipient = notices.Recipient(row["person"], row["channel"], row["url"], row["via"])
    attempt = notices.Outgoing(row["key"], row["attempt"], recipient, row["body"], error=error)
    return notices.Notice(
        key=row["key"], call_id=row["call_id"], alarm_group=row["alarm_group"], line="",
        level=row["level"], step_s=row["step_s"], targets=(), snapshot=None, facts={},
        outgoing=(attempt,),
    )  # fmt: skip


def _is_system_notice(conn: Connection, row: dict[str, Any]) -> bool:
    """A failing channel of a system call's own message raises nothing more (no loop)."""
    if row["call_id"] is None:
        return False
    policy = conn.execute(
        select(escalations.c.policy_id).where(escalations.c.call_id == row["call_id"])
    ).scalar()
    return policy == "fallback"


def _channel_failing(
    conn: Connection, config: HubConfig, row: dict[str, Any], error: str, now: datetime
) -> CallChange | None:
    via = str(row["via"])
    roster = via.partition(":")[2] if via.startswith(("roster:", "fallback:")) else None
    who = row["person"] or "url"
    log.error("channel %s of %s keeps failing: raising a system call", row["channel"], who)
    return raise_system_call(
        conn, config, line=NOTIFICATIONS_LINE, station=str(who), call_type=CHANNEL_FAILING_CALL,
        now=now, rosters=[roster] if roster else None,
        detail={"channel": row["channel"], "error": error, "for_call": str(row["call_id"])},
    )  # fmt: skip


def _work_waiting(conn: Connection, now: datetime, alarm_interval_s: int) -> bool:
    """Whether a pass has anything to do: a cheap read before taking the write lock."""
    cursor = conn.execute(select(hub_state.c.value).where(hub_state.c.name == alarms.CURSOR))
    last_anomaly = int(cursor.scalar() or 0)
    probes = [
        select(escalations.c.call_id).where(
            escalations.c.due_at <= now, escalations.c.status != STOPPED
        ),
        select(escalations.c.call_id).where(escalations.c.line_stop_due_at <= now),
        select(notifications.c.id).where(
            notifications.c.status == deliveries.FAILED, notifications.c.retry_at <= now
        ),
        select(notifications.c.id).where(
            notifications.c.status == deliveries.SENDING, notifications.c.lease_until < now
        ),
        select(anomalies.c.id).where(anomalies.c.id > last_anomaly),
        select(alarm_groups.c.key).where(
            alarm_groups.c.held > 0,
            alarm_groups.c.last_notified_at.is_(None)
            | (alarm_groups.c.last_notified_at <= now - timedelta(seconds=alarm_interval_s)),
        ),
    ]
    return any(conn.execute(probe.limit(1)).first() is not None for probe in probes)
