"""Bounded values for everything that comes in from the network: the wire's messages and
the API's bodies and query parameters both build on these.

A value is refused at the door, with a message that says why, rather than by the
database: a NaN in a NOT NULL float column, a NUL in a PostgreSQL text column or an
integer beyond 64 bits fails there as if the database itself were down.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
INT32_MAX = 2**31 - 1

# C0 and C1 control characters, and lone surrogates (which no UTF-8 text can hold).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same, except tab, line feed and carriage return: a note may have lines.
_CONTROL_IN_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def first_control_character(value: str, *, lines: bool = False) -> str | None:
    """The first character of ``value`` no stored text may hold, or None."""
    match = (_CONTROL_IN_LINES if lines else _CONTROL).search(value)
    return None if match is None else match[0]


def _one_line(value: str) -> str:
    bad = first_control_character(value)
    if bad is not None:
        raise ValueError(f"text must not contain control character U+{ord(bad):04X}")
    return value


def _lines(value: str) -> str:
    bad = first_control_character(value, lines=True)
    if bad is not None:
        raise ValueError(f"text must not contain control character U+{ord(bad):04X}")
    return value


Text = Annotated[str, AfterValidator(_one_line)]
"""One line of text: a name, a serial number, a lot, a reason."""

MultilineText = Annotated[str, AfterValidator(_lines)]
"""Text that may have lines and tabs (a note), but no other control character."""

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
"""A float the database can store: never NaN or an infinity."""

Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
"""An integer that fits a BIGINT column."""

Id32 = Annotated[int, Field(ge=1, le=INT32_MAX)]
"""A row id of an INTEGER primary key (PostgreSQL's is 32 bits)."""

Count32 = Annotated[int, Field(ge=0, le=INT32_MAX)]
"""A count stored in an INTEGER column."""


# Times a query may ask for: wide enough for any plant's history and plans, and far
# enough from datetime's own ends (years 1 and 9999) that a period or a week computed
# around them still exists.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, tzinfo=UTC)


def _moment(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("times need a time zone (end them with Z or +00:00)")
    out_of_range = ValueError(f"times must lie from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} (UTC)")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # beyond year 1 or 9999 in UTC
        raise out_of_range from None
    if not EARLIEST <= utc <= LATEST:
        raise out_of_range
    return utc


Moment = Annotated[datetime, AfterValidator(_moment)]
"""A time with its zone, within the years a query may ask for; given back in UTC."""
