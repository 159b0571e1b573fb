"""Response bodies of the weekly trends (``GET /api/reports/trends``) and of the
recurrence rates (``GET /api/reports/recurrences``).

Kept beside ``hub/api/schemas.py``, as the measurement routes keep theirs: the trends
grow a series at a time (``hub/reports/trends.py``'s table), not with the calls' bodies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class TrendWeekOut(BaseModel):
    week: str = Field(description="ISO 8601 week on the site's wall clock, e.g. 2026-W49")
    start: datetime = Field(description="Monday 00:00 on the site's wall clock")
    end: datetime = Field(description="the next Monday 00:00 (the last week's may lie ahead)")


class TrendSeriesOut(BaseModel):
    name: str = Field(description="the figure: to_acknowledge_s, defect_rate, ...")
    unit: Literal["seconds", "ratio"] = Field(description="seconds, or a fraction 0 to 1")
    values: list[float | None] = Field(
        description="one per week, oldest first; null: nothing to compute it from"
    )


class TrendsOut(BaseModel):
    timezone: str = Field(description="the site's time zone the weeks are cut in")
    weeks: list[TrendWeekOut]
    series: list[TrendSeriesOut]


class RecurrenceRowOut(BaseModel):
    key: str = Field(description="line/station, or the reason code")
    label: str
    resolved: int = Field(description="calls raised in the period, resolved with a reason")
    recurrences: int = Field(description="of them, recurrences of an earlier call")
    rate: float | None = Field(description="recurrences / resolved; null: none resolved")


class RecurrencesOut(BaseModel):
    since: datetime
    until: datetime
    by: Literal["station", "reason_code"]
    recurrence_days: float = Field(description="the hub's recurrence_days")
    rows: list[RecurrenceRowOut]
