"""What became of escalation's line-stop command at a station, for the calls' timelines.

Escalation commands a station's line-stop output when a call is still open at its
``line_stop_after_s`` (``calls.line_stop_at``); the hub's light command carries it to the
edge, which writes the output, reads it back and says how it went: an ``output`` event
when the output is set or released as commanded, a ``light_mismatch`` fault when it
reads back otherwise. Each lands on the timeline of the calls that commanded it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from contract.wire import FaultEvent, OutputEvent
from hub.calls.lifecycle import OPEN_STATES
from hub.db.tables import calls

SET = "line_stop_set"
RELEASED = "line_stop_released"
FAILED = "line_stop_failed"


def line_stop_action(event: OutputEvent | FaultEvent) -> str | None:
    """The timeline action ``event`` means for the line stop, or None (another fault)."""
    if isinstance(event, OutputEvent):
        return SET if event.payload.value else RELEASED
    fault = event.payload
    wanted = (fault.expected or {}).get("line_stop")
    read_back = (fault.read_back or {}).get("line_stop")
    failed = fault.fault == "light_mismatch" and wanted is not None and read_back != wanted
    return FAILED if failed else None


def line_stop_calls(
    conn: Connection, event: OutputEvent | FaultEvent, action: str
) -> list[tuple[int, str]]:
    """(call id, state) of the calls at the event's station whose line stop it answers.

    A set or a failure answers the open calls that commanded a line stop; a release
    answers the latest call that did (it is usually resolved by then)."""
    query = (
        select(calls.c.id, calls.c.state)
        .where(
            calls.c.site == event.site,
            calls.c.area == event.area,
            calls.c.line == event.line,
            calls.c.station == event.station,
            calls.c.line_stop_at.is_not(None),
        )
        .order_by(calls.c.line_stop_at.desc(), calls.c.id.desc())
    )
    if action == RELEASED:
        query = query.limit(1)
    else:
        query = query.where(calls.c.state.in_([str(state) for state in OPEN_STATES]))
    return [(int(row.id), str(row.state)) for row in conn.execute(query)]
