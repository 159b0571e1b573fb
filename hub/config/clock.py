"""Times of day and time zones as the hub's file writes them: checked, kept as text."""

from __future__ import annotations

import re
import zoneinfo
from typing import Annotated

from pydantic import AfterValidator


def _time_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"expected an IANA time zone such as Europe/Berlin or Asia/Shanghai; got {value!r}"
        ) from None
    return value


def _clock_time(value: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f"expected a time of day from 00:00 to 23:59 as HH:MM; got {value!r}")
    return value


TimeZone = Annotated[str, AfterValidator(_time_zone)]
"""An IANA time zone name, such as Europe/Berlin."""

ClockTime = Annotated[str, AfterValidator(_clock_time)]
"""A wall-clock time, HH:MM, in the time zone of what it belongs to."""
