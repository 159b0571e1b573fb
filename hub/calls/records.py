"""Calls as the hub reads them back: rows into dataclasses, and filtered, paged queries.

Pages are keyed by id (a cursor is the last id of the page), so a page stays right
while new calls arrive, and every query has a bound.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from hub.calls.lifecycle import CallState, Durations, durations
from hub.db.paging import DEFAULT_PAGE
from hub.db.tables import calls


@dataclass(frozen=True)
class Call:
    id: int
    site: str
    area: str
    line: str
    station: str
    call_type: str
    state: CallState
    presses: int
    first_event_id: str
    raised_at: datetime
    received_at: datetime | None
    acknowledged_at: datetime | None
    arrived_at: datetime | None
    resolved_at: datetime | None
    verified_at: datetime | None
    cancelled_at: datetime | None
    acknowledged_by: str | None
    reason_code: str | None
    note: str | None
    cancel_reason: str | None
    needs_verification: bool
    part_serial: str | None
    part_lot: str | None
    line_stop_at: datetime | None
    characteristic: str | None  # the SPC characteristic it was raised for, if any
    recurrence_of: int | None  # the earlier call it recurs (hub/calls/recurrence.py)
    root_cause: str | None
    countermeasure: str | None

    def durations(self, now: datetime) -> Durations:
        """From the press; from the hub's receipt if the edge's clock says the press came
        later (a clock that runs fast must not make a response look negative)."""
        start = min(self.raised_at, self.received_at or self.raised_at)
        return durations(
            raised_at=start,
            acknowledged_at=self.acknowledged_at,
            arrived_at=self.arrived_at,
            resolved_at=self.resolved_at,
            cancelled_at=self.cancelled_at,
            now=now,
        )

    def durations_at(self, moment: datetime) -> Durations:
        """The durations as they stood at ``moment``: a step taken later counts as not
        taken yet (a call read back after it moved on, for an earlier action)."""

        def by_then(at: datetime | None) -> datetime | None:
            return at if at is not None and at <= moment else None

        then = replace(
            self,
            acknowledged_at=by_then(self.acknowledged_at),
            arrived_at=by_then(self.arrived_at),
            resolved_at=by_then(self.resolved_at),
            cancelled_at=by_then(self.cancelled_at),
        )
        return then.durations(moment)


def call_from_row(row: Mapping[Any, Any]) -> Call:
    values = {name: row[name] for name in Call.__dataclass_fields__}
    values["state"] = CallState(values["state"])
    values["needs_verification"] = bool(values["needs_verification"])
    return Call(**values)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    action: str
    state: str
    actor: str
    source: str
    detail: dict[str, Any]

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> TimelineEntry:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class CallFilter:
    """Which calls, which page: ``after`` is the cursor (the last id already seen)."""

    states: Sequence[CallState] = ()
    areas: Sequence[str] = ()
    lines: Sequence[str] = ()
    stations: Sequence[str] = ()
    call_types: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None
    after: int | None = None
    newest_first: bool = False
    limit: int = DEFAULT_PAGE
    allowed_lines: Sequence[str] = field(default=())  # a token limited to lines

    def select(self) -> Select[Any]:
        """The query for one page, one row more than ``limit`` to tell if more follow."""
        query = select(calls)
        for column, values in (
            (calls.c.state, self.states),
            (calls.c.area, self.areas),
            (calls.c.line, self.lines),
            (calls.c.station, self.stations),
            (calls.c.call_type, self.call_types),
            (calls.c.line, self.allowed_lines),
        ):
            if values:
                query = query.where(column.in_([str(v) for v in values]))
        if self.since is not None:
            query = query.where(calls.c.raised_at >= self.since)
        if self.until is not None:
            query = query.where(calls.c.raised_at < self.until)
        if self.after is not None:
            query = query.where(
                calls.c.id < self.after if self.newest_first else calls.c.id > self.after
            )
        order = calls.c.id.desc() if self.newest_first else calls.c.id.asc()
        return query.order_by(order).limit(self.limit + 1)
