"""Each edge's liveness: its retained status (online, offline) and its session, and the
edges that serve a line."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, union, update

from hub.db.tables import characteristics, devices, edges
from hub.db.transactions import Database


def set_edge_status(
    database: Database, edge_id: str, status: str, session: int, now: datetime
) -> bool:
    """Record an edge's status of session ``session``; True if its state really changed.

    A status of an older session than the one recorded is ignored (a late Last Will,
    a stray retained ``offline``), and so is one that says what is already known (a
    rebirth): a caller that reacts to an edge going offline reacts once."""
    with database.write() as conn:
        row = conn.execute(
            select(edges.c.status, edges.c.session).where(edges.c.edge_id == edge_id)
        ).first()
        if row is None:
            values = {"status": status, "session": session, "changed_at": now}
            conn.execute(insert(edges).values(edge_id=edge_id, **values))
            return True
        if session < row.session or (session, status) == (row.session, row.status):
            return False
        values = {"status": status, "session": session}
        if status != row.status:
            values["changed_at"] = now
        conn.execute(update(edges).where(edges.c.edge_id == edge_id).values(values))
        return bool(status != row.status)


def list_edges(
    database: Database, *, after: str | None, limit: int, lines: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Edges by id; with ``lines``, only those known to serve one of them (a device
    or a characteristic there): the edges' status messages name no line."""
    query = select(edges).order_by(edges.c.edge_id).limit(limit)
    if after is not None:
        query = query.where(edges.c.edge_id > after)
    if lines:
        on_lines = union(
            select(devices.c.edge_id).where(devices.c.line.in_(lines)),
            select(characteristics.c.edge_id).where(characteristics.c.line.in_(lines)),
        )
        query = query.where(edges.c.edge_id.in_(on_lines))
    with database.read() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]
