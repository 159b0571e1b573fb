"""Alarm hygiene for SPC anomalies: grouped per characteristic, held back on a line down.

Anomalies of one characteristic at one station form a group. A group is notified at
most once per ``escalation.anomaly_interval_s``: the first anomaly goes out at once, and
the ones that follow within the interval go out together when it ends, as one message
with their count. They go through the policy of the call type named by
``escalation.anomaly_call_type`` (``quality`` by default) on their line, to its first
level's targets; there is no call to acknowledge, so no later level. While a call of a
line-down call type is open on a line, that line's SPC alarms are inhibited (counted,
not sent): the line makes no parts, and the alarms would only bury the real call.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from hub.calls.lifecycle import OPEN_STATES
from hub.config.file import HubConfig
from hub.db.tables import alarm_groups, anomalies, calls, hub_state
from hub.escalation import deliveries, notices, pipeline
from hub.escalation.snapshot import Snapshot, SnapshotFor, snapshots_from

CURSOR = "anomaly_cursor"
BATCH = 5000


def take_alarms(conn: Connection, config: HubConfig, ctx: pipeline.Context) -> int:
    """Fold new anomalies into their groups and notify the groups that are due."""
    escalation = config.escalation
    if escalation is None:
        return 0
    interval = timedelta(seconds=escalation.anomaly_interval_s)
    _fold_new_anomalies(conn, ctx.now - interval)
    due = (
        conn.execute(
            select(alarm_groups).where(
                alarm_groups.c.held > 0,
                (alarm_groups.c.last_notified_at.is_(None))
                | (alarm_groups.c.last_notified_at <= ctx.now - interval),
            )
        )
        .mappings()
        .all()
    )
    if not due:
        return 0
    snapshot_for = snapshots_from(config)
    notices = [
        notice
        for group in due
        if (
            notice := _notice(
                conn, dict(group), snapshot_for, escalation.anomaly_call_type, ctx.now
            )
        )
    ]
    ctx = replace(
        ctx,
        line_down_lines=frozenset(_line_down_lines(conn, config)),
        alarm_interval_s=escalation.anomaly_interval_s,
        ack_link=None,
    )
    kept = pipeline.inhibit(pipeline.dedupe(notices, ctx), ctx)
    sent = pipeline.run((pipeline.route, pipeline.notify), kept, ctx)
    for group in due:
        key = group["key"]
        notified = any(n.alarm_group == key for n in kept)
        values: dict[str, Any] = {"held": 0}
        if notified:
            values["last_notified_at"] = ctx.now
        else:  # inhibited by a line-down call, or matched by no policy
            values["inhibited"] = group["inhibited"] + group["held"]
        conn.execute(update(alarm_groups).where(alarm_groups.c.key == key).values(values))
    return deliveries.queue(conn, sent, ctx.now)


def group_key(site: str, area: str, line: str, station: str, characteristic: str) -> str:
    return json.dumps([site, area, line, station, characteristic], separators=(",", ":"))


def _fold_new_anomalies(conn: Connection, stale_before: datetime) -> None:
    # Locked (not skipped): a second hub waits for this pass and then sees the new cursor,
    # so no anomaly is counted twice.
    found = conn.execute(
        select(hub_state.c.value).where(hub_state.c.name == CURSOR).with_for_update()
    ).scalar()
    cursor = int(found or 0)
    rows = (
        conn.execute(
            select(anomalies).where(anomalies.c.id > cursor).order_by(anomalies.c.id).limit(BATCH)
        )
        .mappings()
        .all()
    )
    if not rows:
        return
    counts: dict[str, tuple[int, int]] = {}
    for row in rows:
        if row["received_at"] < stale_before:
            continue  # older than an interval when the engine first saw it: not news
        key = group_key(
            row["site"], row["area"], row["line"], row["station"], row["characteristic"]
        )
        held, _ = counts.get(key, (0, 0))
        counts[key] = (held + 1, int(row["id"]))
    for key, (held, last_id) in counts.items():
        changed = conn.execute(
            update(alarm_groups)
            .where(alarm_groups.c.key == key)
            .values(held=alarm_groups.c.held + held, last_anomaly_id=last_id)
        ).rowcount
        if not changed:
            conn.execute(
                insert(alarm_groups).values(
                    key=key, last_notified_at=None, last_anomaly_id=last_id, held=held, inhibited=0
                )
            )
    _set_cursor(conn, int(rows[-1]["id"]), exists=cursor > 0)


def _set_cursor(conn: Connection, value: int, *, exists: bool) -> None:
    if exists or conn.execute(select(hub_state.c.name).where(hub_state.c.name == CURSOR)).first():
        conn.execute(update(hub_state).where(hub_state.c.name == CURSOR).values(value=str(value)))
    else:
        conn.execute(insert(hub_state).values(name=CURSOR, value=str(value)))


def _notice(
    conn: Connection,
    group: dict[str, Any],
    snapshot_for: SnapshotFor,
    call_type: str,
    now: datetime,
) -> notices.Notice | None:
    _site, area, line, station, characteristic = json.loads(group["key"])
    data = snapshot_for(call_type, area, line, station)
    if data is None:
        return None
    for names in (data["names"], *data.get("names_by_language", {}).values()):
        names["call_type"] = "SPC"
    snapshot = Snapshot.load(data)
    recent = conn.execute(
        select(anomalies.c.tests, anomalies.c.detected_at)
        .where(anomalies.c.id <= group["last_anomaly_id"])
        .where(anomalies.c.characteristic == characteristic, anomalies.c.station == station)
        .order_by(anomalies.c.id.desc())
        .limit(group["held"])
    ).all()
    tests = sorted({str(t) for tests, _ in recent for t in tests})
    first = min((at for _, at in recent), default=now)
    return notices.Notice(
        key=f"a{group['key']}:{group['last_anomaly_id']}",
        call_id=None,
        alarm_group=group["key"],
        line=line,
        level=0,
        step_s=0,
        targets=tuple(snapshot.policy.levels[0].notify),
        snapshot=snapshot,
        facts={
            "raised_at": first,
            "characteristic": characteristic,
            "count": group["held"],
            "tests": tests,  # their numbers; the message names them in its language
        },
    )


def _line_down_lines(conn: Connection, config: HubConfig) -> set[str]:
    kinds = config.line_down_call_types()
    if not kinds:
        return set()
    rows = conn.execute(
        select(calls.c.line)
        .where(calls.c.call_type.in_(kinds), calls.c.state.in_(OPEN_STATES))
        .distinct()
    ).scalars()
    return {str(line) for line in rows}
