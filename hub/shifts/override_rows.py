"""Roster overrides in the hub's database: made, listed and removed with an audit entry
in the same transaction, and read by the escalation at the moment it routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from hub.access.audit import audit_row, record_audit
from hub.db.tables import roster_overrides
from hub.db.transactions import Database
from hub.shifts.overrides import Cover, NewOverride, local


class OverrideConflict(ValueError):
    """Someone already covers that person for part of that time."""


class OverrideNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Override:
    """One stored override, and who made it."""

    id: int
    person: str
    covers: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    note: str
    created_at: datetime
    created_by: str

    @property
    def cover(self) -> Cover:
        return Cover(self.id, self.person, self.covers, self.starts_at, self.ends_at)

    @property
    def starts_local(self) -> str:
        return local(self.starts_at, self.timezone)

    @property
    def ends_local(self) -> str:
        return local(self.ends_at, self.timezone)

    @classmethod
    def from_row(cls, row: Any) -> Override:
        return cls(**{key: row[key] for key in cls.__dataclass_fields__})


def add_override(db: Database, new: NewOverride, *, actor: str, now: datetime) -> Override:
    """Store ``new``; refused when someone covers the same person for part of its time."""
    with db.write() as conn:
        clash = conn.execute(
            select(roster_overrides).where(
                roster_overrides.c.covers == new.covers,
                roster_overrides.c.starts_at < new.ends_at,
                roster_overrides.c.ends_at > new.starts_at,
            )
        ).mappings().first()  # fmt: skip
        if clash is not None:
            found = Override.from_row(clash)
            raise OverrideConflict(
                f"{found.person} already covers {found.covers} from {found.starts_local} to "
                f"{found.ends_local} ({found.timezone}, override {found.id}); remove it first"
            )
        values = {**new.__dict__, "created_at": now, "created_by": actor}
        override_id = conn.execute(
            insert(roster_overrides).values(values).returning(roster_overrides.c.id)
        ).scalar_one()
        made = Override(id=int(override_id), **values)
        detail = {
            "person": made.person, "covers": made.covers, "starts_at": made.starts_at.isoformat(),
            "ends_at": made.ends_at.isoformat(), "note": made.note,
        }  # fmt: skip
        target = f"roster_override:{made.id}"
        record_audit(conn, audit_row(now, actor, "roster_override.added", target, detail))
    return made


def remove_override(db: Database, override_id: int, *, actor: str, now: datetime) -> Override:
    with db.write() as conn:
        row = conn.execute(
            select(roster_overrides).where(roster_overrides.c.id == override_id)
        ).mappings().first()  # fmt: skip
        if row is None:
            raise OverrideNotFound(f"no roster override {override_id}")
        gone = Override.from_row(row)
        conn.execute(delete(roster_overrides).where(roster_overrides.c.id == override_id))
        detail = {"person": gone.person, "covers": gone.covers}
        target = f"roster_override:{gone.id}"
        record_audit(conn, audit_row(now, actor, "roster_override.removed", target, detail))
    return gone


def list_overrides(
    db: Database,
    *,
    person: str | None = None,
    ending_after: datetime | None = None,
    starting_before: datetime | None = None,
    limit: int = 100,
) -> list[Override]:
    """Overrides by start time: of ``person`` (covering or covered), overlapping the span."""
    query = select(roster_overrides).order_by(roster_overrides.c.starts_at, roster_overrides.c.id)
    if person is not None:
        query = query.where(
            (roster_overrides.c.person == person) | (roster_overrides.c.covers == person)
        )
    if ending_after is not None:
        query = query.where(roster_overrides.c.ends_at > ending_after)
    if starting_before is not None:
        query = query.where(roster_overrides.c.starts_at < starting_before)
    with db.read() as conn:
        return [Override.from_row(row) for row in conn.execute(query.limit(limit)).mappings()]


def covers_during(conn: Connection, start: datetime, end: datetime) -> list[Cover]:
    """The overrides that last at some moment from ``start`` to ``end`` (both included)."""
    rows = conn.execute(
        select(roster_overrides)
        .where(roster_overrides.c.starts_at <= end, roster_overrides.c.ends_at > start)
        .order_by(roster_overrides.c.starts_at, roster_overrides.c.id)
    ).mappings()
    return [Override.from_row(row).cover for row in rows]
