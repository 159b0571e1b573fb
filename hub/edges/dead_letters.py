"""Messages set aside: valid by the wire contract, refused by the database for their
content (a constraint, a value beyond a column's range), or failing on a fault of the
hub's own.

Ingest applies a batch in one transaction; when that fails on content, the batch is
applied again in halves until the message at fault is alone, and that message is kept
here with the reason, counted and rejected to its edge, while the rest of the batch is
applied and confirmed. Only an outage of the database itself (connection lost, disk
full, locked past the timeout) leaves a batch unacknowledged for the broker to deliver
again. An admin reads what was set aside through ``GET /api/dead-letters``.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError, StatementError

from contract.bounds import first_control_character
from contract.wire import MAX_PAYLOAD_BYTES
from hub.db.tables import dead_letters

log = logging.getLogger(__name__)

# The newest this many messages set aside are kept; older ones make room.
MAX_KEPT = 10_000
MAX_DETAIL = 1000
MAX_TOPIC = 512


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` is the database's own failure (to wait out and redeliver), not a
    message's content (to set aside).

    Content: a constraint (IntegrityError), a value the column cannot hold (DataError:
    a NUL in PostgreSQL text, an integer out of range), a value the driver could not
    bind (a StatementError around a Python error, an OverflowError), or any error that
    is not the database's at all. Everything else the database raises (OperationalError
    for a lost connection, a full disk or a lock timeout; InterfaceError; a missing
    table) is an outage: setting messages aside for it would lose them."""
    if not isinstance(exc, SQLAlchemyError):
        return False
    if isinstance(exc, IntegrityError | DataError):
        return False
    return isinstance(exc, DBAPIError) or not isinstance(exc, StatementError)


def refused_by_database(exc: BaseException) -> bool:
    """Whether a failure that is no outage is the database's (or its driver's) refusal of
    a value, reason ``set_aside``, rather than a fault of the hub's own, ``internal``.
    sqlite3 refuses an integer beyond 64 bits with a bare OverflowError."""
    return isinstance(exc, SQLAlchemyError | OverflowError)


@dataclass(frozen=True)
class DeadLetter:
    """One message set aside, as received, with why."""

    path: str  # "event" (calls and the rest) or "measurement"
    topic: str
    payload: bytes
    reason: str
    detail: str
    at: datetime
    edge_id: str | None = None
    seq: int | None = None


def describe(exc: BaseException) -> str:
    """What the database said, on one line, without the statement's parameters."""
    original = getattr(exc, "orig", None) or exc
    return f"{type(exc).__name__}: {str(original).splitlines()[0] if str(original) else ''}"


def keep(engine: Engine, letter: DeadLetter) -> None:
    """Store ``letter`` in a transaction of its own (and drop the oldest beyond MAX_KEPT).

    Raises the database's error if even that fails: the caller treats it as an outage."""
    row = {
        "at": letter.at,
        "path": letter.path,
        "topic": _escaped(letter.topic, MAX_TOPIC),
        "edge_id": letter.edge_id,
        "seq": letter.seq,
        "reason": letter.reason,
        "detail": _escaped(letter.detail, MAX_DETAIL),
        "payload_size": len(letter.payload),
        "payload_base64": base64.b64encode(letter.payload[:MAX_PAYLOAD_BYTES]).decode(),
    }
    with engine.begin() as conn:
        new_id = conn.execute(
            insert(dead_letters).values(row).returning(dead_letters.c.id)
        ).scalar()
        if new_id is not None and new_id > MAX_KEPT:
            conn.execute(delete(dead_letters).where(dead_letters.c.id <= new_id - MAX_KEPT))
    log.error("message on %s set aside (%s): %s", row["topic"], letter.reason, row["detail"])


def list_dead_letters(engine: Engine, *, after: int | None, limit: int) -> list[dict[str, Any]]:
    """Messages set aside, newest first, ``limit`` + 1 of them (to tell whether more follow)."""
    query = select(dead_letters).order_by(dead_letters.c.id.desc()).limit(limit + 1)
    if after is not None:
        query = query.where(dead_letters.c.id < after)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def _escaped(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, its control characters written as escapes
    (a topic or a database's message may quote the very byte that was refused)."""
    text = text[:limit]
    if first_control_character(text) is None:
        return text
    escaped = text.encode("unicode_escape", errors="backslashreplace").decode("ascii")
    return escaped[:limit]
