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

from pydantic import AfterValidator, BeforeValidator, Field

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
INT32_MAX = 2**31 - 1
UINT64_MAX = 2**64 - 1  # the largest integer a device register holds

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


# The same rules as JSON Schema patterns, so an API's documents say what it refuses.
_TEXT_PATTERN = "^[^\\x00-\\x1f\\x7f-\\x9f]*$"
_LINES_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"

Text = Annotated[
    str, AfterValidator(_one_line), Field(json_schema_extra={"pattern": _TEXT_PATTERN})
]
"""One line of text: a name, a serial number, a lot, a reason."""

WireText = Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f-\x9f]*$")]
"""One line of text, as ``Text``, checked inside pydantic-core (its message names the
pattern, not the character): for the wire, where one measurement message holds hundreds
of names and a Python call each doubled the time to validate it. Lone surrogates never
get this far (pydantic-core refuses them as it reads the string)."""

MultilineText = Annotated[
    str, AfterValidator(_lines), Field(json_schema_extra={"pattern": _LINES_PATTERN})
]
"""Text that may have lines and tabs (a note), but no other control character."""

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
"""A float the database can store: never NaN or an infinity."""

Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
"""An integer that fits a BIGINT column."""

Id32 = Annotated[int, Field(ge=1, le=INT32_MAX)]
"""A row id of an INTEGER primary key (PostgreSQL's is 32 bits)."""

Count32 = Annotated[int, Field(ge=0, le=INT32_MAX)]
"""A count stored in an INTEGER column."""


# Times a query may ask for: the years 1970 to 2999 as written, wide enough for any
# plant's history and plans, and far enough from datetime's own ends (years 1 and 9999)
# that a period or a week computed around them still exists. The document says it by a
# pattern on the text; the year as written decides, and a time zone cannot move a time
# out of the range by more than a day.
_YEARS = "^(19[7-9][0-9]|2[0-9]{3})-"
_ISO_TIME = re.compile(r"(19[7-9][0-9]|2[0-9]{3})-\d\d-\d\d[Tt ]\d\d:\d\d")


def _iso_text(value: object) -> object:
    """Only ISO 8601 text of those years (or a datetime) is a time here: pydantic alone
    would also read a number as seconds since 1970, which the documented format does not
    allow."""
    if isinstance(value, datetime):
        value = value.isoformat()
    if not isinstance(value, str) or not _ISO_TIME.match(value):
        raise ValueError(
            "expected an ISO 8601 time of the years 1970 to 2999, such as 2026-03-01T06:00:00Z"
        )
    return value


def _moment(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("times need a time zone (end them with Z or +00:00)")
    return value.astimezone(UTC)


Moment = Annotated[
    datetime,
    BeforeValidator(_iso_text),
    AfterValidator(_moment),
    Field(json_schema_extra={"pattern": _YEARS}),
]
"""A time with its zone, in the years a query may ask for; given back in UTC."""


def printable(value: str) -> str:
    """``value`` with each control character replaced by U+FFFD, for text read from a
    device (a register's bytes are not always text) before it goes on the wire."""
    return _CONTROL.sub("\ufffd", value)
