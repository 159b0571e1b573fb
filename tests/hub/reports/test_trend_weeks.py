"""The trends' weeks are ISO weeks of the site's wall clock: across a daylight-saving
change (a week of 167 hours) and a year with a 53rd week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.reports.trends import weeks_ending


def test_a_week_with_the_clocks_going_forward_is_an_hour_short() -> None:
    # Berlin moves from UTC+1 to UTC+2 on Sunday 2026-03-29.
    weeks = weeks_ending(datetime(2026, 3, 31, 12, tzinfo=UTC), "Europe/Berlin", 2)
    assert [w.week for w in weeks] == ["2026-W13", "2026-W14"]
    before, after = weeks
    assert before.start == datetime(2026, 3, 22, 23, tzinfo=UTC)  # Monday 00:00, UTC+1
    assert before.end == after.start == datetime(2026, 3, 29, 22, tzinfo=UTC)  # UTC+2
    assert before.end - before.start == timedelta(hours=167)


def test_the_weeks_cross_a_year_with_a_53rd_week_and_end_with_the_one_holding_until() -> None:
    # Monday 2027-01-04 00:00 in Shanghai: the moment before it is Sunday of 2026-W53.
    until = datetime(2027, 1, 3, 16, tzinfo=UTC)
    weeks = weeks_ending(until, "Asia/Shanghai", 3)
    assert [w.week for w in weeks] == ["2026-W51", "2026-W52", "2026-W53"]
    assert weeks[-1].end == until
    assert weeks_ending(until + timedelta(seconds=1), "Asia/Shanghai", 1)[0].week == "2027-W01"
