"""Roster overrides, pure: the span written in the site's clock (midnight, both clock
changes of Europe/Berlin), and who answers when overrides last (one step, so a swap at
the same hours exchanges two people)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.shifts.overrides import Cover, OverrideRefused, override_span, with_stand_ins

BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc,arg-type]


@pytest.mark.parametrize(
    ("starts", "ends", "span"),
    [
        # Winter time, UTC+1: 22:00 to 06:00 the next morning.
        ("2026-12-08 22:00", "06:00", (utc(2026, 12, 8, 21), utc(2026, 12, 9, 5))),
        ("2026-12-08T22:00", "2026-12-09 06:00", (utc(2026, 12, 8, 21), utc(2026, 12, 9, 5))),
        # An end later than the start on the same day stays on that day.
        ("2026-12-08 08:00", "16:00", (utc(2026, 12, 8, 7), utc(2026, 12, 8, 15))),
        # Autumn: 22:00 CEST (UTC+2) to 06:00 CET (UTC+1), 9 hours.
        ("2026-10-24 22:00", "06:00", (utc(2026, 10, 24, 20), utc(2026, 10, 25, 5))),
        # Spring: 22:00 CET to 06:00 CEST, 7 hours.
        ("2027-03-27 22:00", "06:00", (utc(2027, 3, 27, 21), utc(2027, 3, 28, 4))),
        # A start in the skipped hour starts at the jump (03:00 CEST = 01:00 UTC).
        ("2027-03-28 02:30", "06:00", (utc(2027, 3, 28, 1), utc(2027, 3, 28, 4))),
        # A start in the repeated hour is its first occurrence (CEST).
        ("2026-10-25 02:30", "04:00", (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 3))),
    ],
)
def test_a_span_in_the_sites_clock(starts: str, ends: str, span: tuple[datetime, datetime]) -> None:
    assert override_span(starts, ends, "Europe/Berlin") == span
    hours = {("2026-10-24 22:00", "06:00"): 9, ("2027-03-27 22:00", "06:00"): 7}.get((starts, ends))
    if hours is not None:
        assert span[1] - span[0] == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("starts", "ends", "why"),
    [
        ("2026-12-08 22:00", "2027-01-09 22:00", "at most 31 days"),
        ("2026-12-08 22:00", "2026-12-08 22:00", "must end after it starts"),
        ("2026-12-08 22:00", "2026-12-08 21:00", "must end after it starts"),
        # 02:00 and 02:30 of the spring night do not exist: both are the jump to 03:00.
        ("2027-03-28 02:00", "02:30", "must end after it starts"),
        ("2026-13-01 22:00", "06:00", "no such date"),
        ("2026-12-08 24:00", "06:00", "from 00:00 to 23:59"),
        ("tomorrow 22:00", "06:00", "YYYY-MM-DD HH:MM"),
        ("9999-12-31 22:00", "06:00", "a year from 1970 to 2999"),
    ],
)
def test_a_span_that_cannot_be_is_refused_saying_why(starts: str, ends: str, why: str) -> None:
    with pytest.raises(OverrideRefused, match=why):
        override_span(starts, ends, "Europe/Berlin")


def test_a_person_covered_is_replaced_once_and_a_swap_exchanges_two() -> None:
    night = (utc(2026, 12, 8, 21), utc(2026, 12, 9, 5))
    chen_for_wang = Cover(1, "chen", "wang", *night)
    at = utc(2026, 12, 8, 23)
    assert with_stand_ins(["wang", "li"], [chen_for_wang], at) == ["chen", "li"]
    assert with_stand_ins(["wang", "chen"], [chen_for_wang], at) == ["chen"]  # told once
    assert with_stand_ins(["wang"], [chen_for_wang], night[1]) == ["wang"]  # it has ended
    assert with_stand_ins(["wang"], [chen_for_wang], night[0]) == ["chen"]  # from its start
    swap = [chen_for_wang, Cover(2, "wang", "chen", *night)]
    assert with_stand_ins(["wang"], swap, at) == ["chen"]
    assert with_stand_ins(["chen"], swap, at) == ["wang"]
