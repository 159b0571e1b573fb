"""The audit log: every call transition, token change and configuration reload, with who.

Entries are written in the same transaction as the change they describe, so the log
and the state never disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.engine import Connection

from hub.db.tables import audit_log


def audit_row(
    at: datetime, actor: str, action: str, target: str, detail: dict[str, Any]
) -> dict[str, Any]:
    """One entry: ``actor`` did ``action`` to ``target`` at ``at``."""
    return {"at": at, "actor": actor, "action": action, "target": target, "detail": detail}


def record_audit(conn: Connection, *rows: dict[str, Any]) -> None:
    """Append entries made by ``audit_row``, in one statement."""
    conn.execute(insert(audit_log), list(rows))


def list_audit(engine: Engine, *, after: int | None, limit: int) -> list[dict[str, Any]]:
    """Entries newest first, ``limit`` + 1 of them (to tell whether more follow)."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit + 1)
    if after is not None:
        query = query.where(audit_log.c.id < after)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]
