"""Who is on shift: night shifts, a roster's own time zone, daylight saving, the fallback."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.config.escalation import PersonConfig, RosterConfig, escalation_problems
from hub.shifts.rosters import boundary, on_shift

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def roster(*shifts: dict[str, Any], timezone: str = "UTC") -> RosterConfig:
    return RosterConfig.model_validate(
        {"id": "maintenance", "timezone": timezone, "shifts": list(shifts), "fallback": ["boss"]}
    )


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


DAY = {"members": ["li-wei"], "days": WEEKDAYS, "start": "06:00", "end": "14:00"}
NIGHT = {"members": ["zhang-min"], "days": ["mon"], "start": "22:00", "end": "06:00"}


@pytest.mark.parametrize(
    ("at", "members", "shift"),
    [
        (utc(2026, 11, 30, 21, 59), ("boss",), None),  # Monday, before the night shift
        (utc(2026, 11, 30, 22, 0), ("zhang-min",), 1),  # Monday 22:00: it starts
        (utc(2026, 12, 1, 0, 0), ("zhang-min",), 1),  # Tuesday midnight: still on
        (utc(2026, 12, 1, 5, 59), ("zhang-min",), 1),
        (utc(2026, 12, 1, 6, 0), ("li-wei",), 0),  # Tuesday 06:00: the day shift takes over
        (utc(2026, 12, 1, 22, 0), ("boss",), None),  # no night shift starts on Tuesday
        (utc(2026, 11, 30, 5, 0), ("boss",), None),  # Monday 05:00: Sunday had no night shift
    ],
)
def test_a_night_shift_runs_from_its_day_across_midnight(
    at: datetime, members: tuple[str, ...], shift: int | None
) -> None:
    answer = on_shift(roster(DAY, NIGHT), at)
    assert (answer.members, answer.shift) == (members, shift)


def test_the_matched_shift_says_when_it_starts_and_ends() -> None:
    answer = on_shift(roster(DAY, NIGHT), utc(2026, 12, 1, 1, 0))
    assert (answer.starts_at, answer.ends_at) == (utc(2026, 11, 30, 22), utc(2026, 12, 1, 6))


def test_nobody_on_shift_is_answered_by_the_fallback() -> None:
    answer = on_shift(roster(DAY), utc(2026, 12, 5, 10, 0))  # a Saturday
    assert answer.members == ("boss",)
    assert answer.is_fallback
    assert answer.starts_at is None


def test_the_roster_clock_is_its_own_time_zone_not_utc() -> None:
    shanghai = roster(DAY, timezone="Asia/Shanghai")  # UTC+8, no daylight saving
    assert on_shift(shanghai, utc(2026, 11, 30, 22, 0)).members == ("li-wei",)  # Tue 06:00
    assert on_shift(shanghai, utc(2026, 12, 1, 5, 59)).members == ("li-wei",)  # Tue 13:59
    assert on_shift(shanghai, utc(2026, 12, 1, 6, 0)).is_fallback  # Tue 14:00
    assert on_shift(shanghai, utc(2026, 11, 30, 10, 0)).is_fallback  # Mon 18:00 there


def test_any_aware_datetime_is_the_same_moment() -> None:
    shanghai = roster(DAY, timezone="Asia/Shanghai")
    local = datetime(2026, 12, 1, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert on_shift(shanghai, local) == on_shift(shanghai, local.astimezone(UTC))


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        on_shift(roster(DAY), datetime(2026, 12, 1, 7, 0))


BERLIN = ZoneInfo("Europe/Berlin")
SPRING = date(2026, 3, 29)  # last Sunday of March: 02:00 CET becomes 03:00 CEST (01:00 UTC)
AUTUMN = date(2026, 10, 25)  # last Sunday of October: 03:00 CEST becomes 02:00 CET (01:00 UTC)


def test_a_shift_that_starts_in_the_skipped_hour_starts_when_the_clocks_jump() -> None:
    early = roster(
        {"members": ["li-wei"], "days": ["sun"], "start": "02:30", "end": "10:00"},
        timezone="Europe/Berlin",
    )
    assert on_shift(early, utc(2026, 3, 29, 0, 59, 59)).is_fallback  # 01:59:59 CET
    assert on_shift(early, utc(2026, 3, 29, 1, 0)).members == ("li-wei",)  # 03:00 CEST
    assert on_shift(early, utc(2026, 3, 29, 7, 59)).members == ("li-wei",)  # 09:59 CEST
    assert on_shift(early, utc(2026, 3, 29, 8, 0)).is_fallback  # 10:00 CEST
    assert boundary(SPRING, time(2, 30), BERLIN) == utc(2026, 3, 29, 1, 0)


def test_a_night_shift_across_the_spring_change_is_an_hour_shorter() -> None:
    night = roster(
        {"members": ["zhang-min"], "days": ["sat"], "start": "22:00", "end": "06:00"},
        timezone="Europe/Berlin",
    )
    answer = on_shift(night, utc(2026, 3, 29, 1, 30))
    assert answer.members == ("zhang-min",)
    assert (answer.starts_at, answer.ends_at) == (utc(2026, 3, 28, 21), utc(2026, 3, 29, 4))
    assert on_shift(night, utc(2026, 3, 29, 4, 0)).is_fallback  # 06:00 CEST


def test_a_night_shift_across_the_autumn_change_is_an_hour_longer() -> None:
    night = roster(
        {"members": ["zhang-min"], "days": ["sat"], "start": "22:00", "end": "06:00"},
        timezone="Europe/Berlin",
    )
    answer = on_shift(night, utc(2026, 10, 25, 1, 30))  # 02:30 CET, the repeated hour
    assert (answer.starts_at, answer.ends_at) == (utc(2026, 10, 24, 20), utc(2026, 10, 25, 5))
    assert answer.ends_at - answer.starts_at == timedelta(hours=9)  # type: ignore[operator]


def test_shifts_meeting_in_the_repeated_hour_hand_over_once_at_its_first_occurrence() -> None:
    meeting = roster(
        {"members": ["zhang-min"], "days": ["sat"], "start": "22:00", "end": "02:30"},
        {"members": ["li-wei"], "days": ["sun"], "start": "02:30", "end": "10:00"},
        timezone="Europe/Berlin",
    )
    handover = boundary(AUTUMN, time(2, 30), BERLIN)
    assert handover == utc(2026, 10, 25, 0, 30)  # 02:30 CEST, the first 02:30
    assert on_shift(meeting, handover - timedelta(seconds=1)).members == ("zhang-min",)
    # Every minute after the handover, through the whole repeated hour, is li-wei's.
    for minute in range(0, 120):
        assert on_shift(meeting, handover + timedelta(minutes=minute)).members == ("li-wei",)


def test_a_boundary_at_an_ordinary_time_is_that_time() -> None:
    assert boundary(SPRING, time(12, 0), BERLIN) == utc(2026, 3, 29, 10, 0)
    assert boundary(AUTUMN, time(12, 0), BERLIN) == utc(2026, 10, 25, 11, 0)
    assert boundary(SPRING, time(3, 0), BERLIN) == utc(2026, 3, 29, 1, 0)


def shift_problems(*shifts: dict[str, Any]) -> list[str]:
    people = [PersonConfig(id=name, notify=["json://h/"]) for name in ("li-wei", "boss")]
    return [
        message
        for _, message in escalation_problems(
            people=people,
            rosters=[roster(*shifts)],
            escalation=None,
            call_types=["maintenance"],
            lines=["line1"],
        )
    ]


def test_a_sunday_night_shift_overlaps_a_monday_morning_across_the_week_end() -> None:
    sunday_night = {"members": ["boss"], "days": ["sun"], "start": "22:00", "end": "07:00"}
    assert shift_problems(DAY, sunday_night) == [
        "overlaps shifts[0] on mon from 06:00; got 22:00-07:00"
    ]


def test_shifts_that_only_meet_do_not_overlap() -> None:
    evening = {"members": ["boss"], "days": WEEKDAYS, "start": "14:00", "end": "22:00"}
    night = {"members": ["boss"], "days": WEEKDAYS, "start": "22:00", "end": "06:00"}
    assert shift_problems(DAY, evening, night) == []
