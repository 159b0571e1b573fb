"""How often fixed problems come back: the recurrence rate by station or reason code.

Over the calls raised in a period and resolved with a reason code, grouped by station or
by reason code: ``recurrences`` counts those that recur an earlier call
(``calls.recurrence_of``, hub/calls/recurrence.py) and ``rate`` = recurrences / resolved
(None when nothing was resolved). Rows with the most recurrences first, then the highest
rate, then by key.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from hub.calls.records import Call

DIMENSIONS = ("station", "reason_code")


@dataclass(frozen=True)
class RecurrenceRow:
    key: str
    label: str
    resolved: int  # calls of the period resolved with a reason code
    recurrences: int  # of them, recurrences of an earlier call
    rate: float | None


def recurrence_rows(
    calls: Iterable[Call], *, by: str, label: Callable[[str], str]
) -> list[RecurrenceRow]:
    """The resolved calls grouped ``by`` station (``line/station``) or reason code."""
    groups: dict[str, list[Call]] = {}
    for call in calls:
        if call.reason_code is None:
            continue
        key = f"{call.line}/{call.station}" if by == "station" else call.reason_code
        groups.setdefault(key, []).append(call)
    rows = []
    for key, group in groups.items():
        recurrences = sum(call.recurrence_of is not None for call in group)
        rows.append(
            RecurrenceRow(key, label(key), len(group), recurrences, recurrences / len(group))
        )
    return sorted(rows, key=lambda row: (-row.recurrences, -(row.rate or 0), row.key))


def recurrences_csv(rows: Sequence[RecurrenceRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["key", "label", "resolved", "recurrences", "rate"])
    for row in rows:
        rate = "" if row.rate is None else f"{row.rate:.6f}"
        writer.writerow([row.key, row.label, row.resolved, row.recurrences, rate])
    return out.getvalue()
