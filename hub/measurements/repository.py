"""Measurements in the hub's database: SPC points, characteristics' newest lines, quality
counts per station and hour; bounded retention.

A batch of measurement messages is written in one transaction of its own, never in a
call's: the call path does not wait for it beyond SQLite's write lock, which each batch
holds briefly (its size is bounded by rows). Each edge's last applied measurement message
is kept, so a redelivered message adds no point and counts no part twice. Hubs that share
the site's messages (``shared_group``) store one edge's messages in turn, and a message
that another hub's newer one overtook still has its points stored, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from contract.wire import MeasurementEvent
from hub.config.measurements import COUNTERS, MeasurementsConfig, QualityCounters
from hub.db.tables import (
    characteristics,
    measurement_edges,
    quality_counters,
    quality_counts,
    spc_points,
)
from hub.db.transactions import Database
from hub.measurements.quality_counts import CounterStep, counter_step, hour_of

# A sequence number this far below the last one applied means the edge's outbox was
# replaced (its numbering started again), not a redelivery.
RESTARTED_SEQ_GAP = 1_000_000
# The first key of the advisory locks that hold an edge's measurements (PostgreSQL).
EDGE_LOCK_KIND = 4242


@dataclass
class AppliedBatch:
    """What one transaction stored: the events applied (in order), and the duplicates."""

    applied: list[MeasurementEvent] = field(default_factory=list)
    duplicates: int = 0
    points: int = 0
    counter_steps: list[CounterStep] = field(default_factory=list)


def upsert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], *, add: Sequence[str] = ()
) -> None:
    """Insert ``rows``, or update the row with the same primary key: the ``add`` columns
    summed, every other column set to the new value. One statement on both databases; the
    rows' keys must be distinct (PostgreSQL updates a row once per statement)."""
    if not rows:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table)
    keys = [column.name for column in table.primary_key.columns]
    values = {
        column.name: (
            column + statement.excluded[column.name]
            if column.name in add
            else statement.excluded[column.name]
        )
        for column in table.columns
        if column.name not in keys
    }
    conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=values), list(rows))


def _insert_missing(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the ``rows`` whose primary key is not in ``table`` yet; leave the others."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(insert(table).on_conflict_do_nothing(), list(rows))


class MeasurementStore:
    """Writes and prunes measurement rows in the hub's database."""

    def __init__(self, store: Database) -> None:
        self.store = store
        # SQLite: one writer at a time for the whole database, calls included.
        self.shares_write_lock = store.engine.dialect.name == "sqlite"

    def apply(
        self,
        events: Sequence[MeasurementEvent],
        received_at: datetime,
        *,
        config: MeasurementsConfig,
    ) -> AppliedBatch:
        """Apply new events (in sequence order per edge) in one transaction."""
        result = AppliedBatch()
        with self.store.write() as conn:
            _lock_edges(conn, {event.edge_id for event in events})
            fresh, late = _new_events(conn, events, result)
            rows = [
                _point_row(event, point, received_at)
                for event in fresh
                for point in event.payload.points
            ]
            late_rows = _unstored_points(conn, late, received_at)
            result.duplicates += len(late) - len({id(event) for event, _ in late_rows})
            if rows:
                upsert(conn, characteristics, _newest_lines(rows))
            if late_rows:
                # A late point is not the newest: it names a characteristic's lines only
                # if nothing newer has.
                rows += [row for _, row in late_rows]
                _insert_missing(conn, characteristics, _newest_lines(r for _, r in late_rows))
            if rows:
                conn.execute(spc_points.insert(), rows)
            result.points = len(rows)
            result.counter_steps = _count_parts(conn, fresh, config.quality)
            last = {e.edge_id: e for e in fresh}
            upsert(
                conn,
                measurement_edges,
                [
                    {"edge_id": k, "last_seq": e.seq, "received_at": received_at}
                    for k, e in last.items()
                ],
            )
            late_applied = {id(event) for event, _ in late_rows}
            result.applied = fresh + [event for event in late if id(event) in late_applied]
        return result

    def prune(self, now: datetime, *, config: MeasurementsConfig) -> int:
        """Drop points older than the retention and beyond each characteristic's newest N."""
        removed = 0
        with self.store.write() as conn:
            cutoff = now - timedelta(days=config.retention_days)
            removed += conn.execute(delete(spc_points).where(spc_points.c.at < cutoff)).rowcount
            for (name,) in conn.execute(select(characteristics.c.characteristic).distinct()):
                removed += _keep_newest(conn, name, config.points_per_characteristic)
        return removed


def _lock_edges(conn: Connection, edge_ids: set[str]) -> None:
    """Hold each edge's measurements for this transaction (PostgreSQL: hubs of a shared
    group store one edge's messages at once, and each must see what the other stored).
    Taken in one order, so two hubs never wait on each other. SQLite's write lock, held
    from the transaction's start, already does this."""
    if conn.dialect.name != "postgresql" or not edge_ids:
        return
    conn.execute(
        text(
            "SELECT pg_advisory_xact_lock(:kind, hashtext(edge_id))"
            " FROM unnest(CAST(:edge_ids AS text[])) AS edge_id"
        ),
        {"kind": EDGE_LOCK_KIND, "edge_ids": sorted(edge_ids)},
    )


def _new_events(
    conn: Connection, events: Sequence[MeasurementEvent], result: AppliedBatch
) -> tuple[list[MeasurementEvent], list[MeasurementEvent]]:
    """The events after each edge's last applied one, in order; and the late ones, at or
    below it: a redelivery, or, with hubs sharing an edge's messages, one that another
    hub's newer message overtook."""
    edge_ids = {event.edge_id for event in events}
    last = dict(
        conn.execute(
            select(measurement_edges.c.edge_id, measurement_edges.c.last_seq).where(
                measurement_edges.c.edge_id.in_(edge_ids)
            )
        ).all()
    )
    fresh, late = [], []
    seen: set[tuple[str, int]] = set()
    for event in sorted(events, key=lambda e: (e.edge_id, e.seq)):
        before = last.get(event.edge_id)
        if (event.edge_id, event.seq) in seen:
            result.duplicates += 1  # twice in one batch
        elif before is not None and before - RESTARTED_SEQ_GAP < event.seq <= before:
            late.append(event)
        else:
            last[event.edge_id] = event.seq
            fresh.append(event)
        seen.add((event.edge_id, event.seq))
    return fresh, late


def _unstored_points(
    conn: Connection, late: Sequence[MeasurementEvent], received_at: datetime
) -> list[tuple[MeasurementEvent, dict[str, Any]]]:
    """The points of late events not stored yet, each with its event. A point is its
    edge's, station's and characteristic's subgroup at one poll cycle. Late readings are
    not counted: a quality counter is a running total, and the newer reading applied
    already holds it."""
    candidates = [(event, point) for event in late for point in event.payload.points]
    if not candidates:
        return []
    stored = {
        tuple(row)
        for row in conn.execute(
            select(
                spc_points.c.edge_id, spc_points.c.station, spc_points.c.characteristic,
                spc_points.c.subgroup,
            ).where(
                spc_points.c.at.in_({event.ts for event in late}),
                spc_points.c.edge_id.in_({event.edge_id for event in late}),
            )
        )
    }  # fmt: skip
    unstored = []
    for event, point in candidates:
        key = (event.edge_id, point.station, point.characteristic, point.subgroup)
        if key not in stored:
            stored.add(key)
            unstored.append((event, _point_row(event, point, received_at)))
    return unstored


def _point_row(event: MeasurementEvent, point: Any, received_at: datetime) -> dict[str, Any]:
    part = point.part
    return {
        "characteristic": point.characteristic, "chart": point.chart, "site": event.site,
        "area": event.area, "line": event.line, "station": point.station,
        "edge_id": event.edge_id, "measurement": point.measurement,
        "subgroup": point.subgroup, "value": point.value, "center": point.center,
        "lcl": point.lcl, "ucl": point.ucl, "tests": list(point.tests),
        "part_serial": part.serial if part else None, "part_lot": part.lot if part else None,
        "at": event.ts, "received_at": received_at, "unit": point.unit,
    }  # fmt: skip


def _newest_lines(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One characteristics row per key: its newest point's lines."""
    newest: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["characteristic"], row["area"], row["line"], row["station"])
        newest[key] = {
            "characteristic": key[0], "area": key[1], "line": key[2], "station": key[3],
            "chart": row["chart"], "measurement": row["measurement"],
            "edge_id": row["edge_id"], "center": row["center"], "lcl": row["lcl"],
            "ucl": row["ucl"], "last_subgroup": row["subgroup"], "last_point_at": row["at"],
            "unit": row["unit"],
        }  # fmt: skip
    return list(newest.values())


def _keep_newest(conn: Connection, name: str, keep: int) -> int:
    """Delete the points of characteristic ``name`` beyond its newest ``keep``."""
    boundary = conn.execute(
        select(spc_points.c.id)
        .where(spc_points.c.characteristic == name)
        .order_by(spc_points.c.id.desc())
        .offset(keep)
        .limit(1)
    ).scalar()
    if boundary is None:
        return 0
    doomed = (spc_points.c.characteristic == name) & (spc_points.c.id <= boundary)
    return int(conn.execute(delete(spc_points).where(doomed)).rowcount)


def _count_parts(
    conn: Connection, events: Sequence[MeasurementEvent], quality: Sequence[QualityCounters]
) -> list[CounterStep]:
    """Turn counter readings into increments, summed into hourly buckets per station."""
    watched = {(q.line, q.station): q for q in quality}
    if not watched or not events:
        return []
    state = {
        (row.line, row.station, row.counter): row.value
        for row in conn.execute(select(quality_counters))
    }
    steps: list[CounterStep] = []
    counters: dict[tuple[str, str, str], dict[str, Any]] = {}
    buckets: dict[tuple[str, str, datetime], dict[str, Any]] = {}
    for event in events:
        for reading in event.payload.readings:
            entry = watched.get((event.line, reading.station))
            kind = entry.counters().get(reading.name) if entry is not None else None
            value = reading.value
            if entry is None or kind is None or isinstance(value, bool | str):
                continue
            if not -(2**63) <= value < 2**63:
                continue  # no counter counts this far: a broken register, not parts
            key = (event.line, reading.station, kind)
            step = counter_step(state.get(key), int(value), entry, kind=kind)
            state[key] = step.value
            counters[key] = {"line": key[0], "station": key[1], "counter": kind}
            counters[key] |= {"value": step.value, "at": event.ts}
            steps.append(step)
            hour = hour_of(event.ts)
            bucket = buckets.setdefault(
                (event.line, reading.station, hour),
                {"line": event.line, "station": reading.station, "hour": hour,
                 "area": event.area, "inspected": 0, "defective": 0, "reworked": 0},
            )  # fmt: skip
            bucket[kind] += step.increment
    upsert(conn, quality_counters, list(counters.values()))
    upsert(conn, quality_counts, list(buckets.values()), add=COUNTERS)
    return steps


def count_points(conn: Connection) -> int:
    """Every point stored (for tests and the retention's checks)."""
    return int(conn.execute(select(func.count()).select_from(spc_points)).scalar_one())
