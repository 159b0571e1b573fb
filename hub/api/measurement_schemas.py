"""Response bodies of the measurement routes: characteristics, their points, quality counts.

Kept beside ``hub/api/schemas.py`` rather than in it, as the measurement path is a module
family of its own (intake, store, news, routes).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class CharacteristicOut(BaseModel):
    """A characteristic charted at one station, with its newest point's lines."""

    characteristic: str
    area: str
    line: str
    station: str
    chart: str
    measurement: str
    edge_id: str
    center: float
    lcl: float
    ucl: float
    last_subgroup: int
    last_point_at: datetime = Field(description="the newest point's poll cycle, edge's clock")
    unit: str | None = Field(description="the measurement's unit (edge's unit:); null: none")


class CharacteristicList(BaseModel):
    characteristics: list[CharacteristicOut]


class SpcPointOut(BaseModel):
    """One charted subgroup: its statistic, the chart's lines and the tests it failed."""

    id: int
    characteristic: str
    chart: str
    area: str
    line: str
    station: str
    edge_id: str
    measurement: str
    subgroup: int
    value: float
    center: float
    lcl: float
    ucl: float
    tests: list[int] = Field(description="tests failed (1 to 8, Nelson's order); [] for none")
    part_serial: str | None
    part_lot: str | None
    at: datetime = Field(description="the poll cycle, by the edge's clock")
    received_at: datetime
    unit: str | None = Field(description="the measurement's unit (edge's unit:); null: none")


class SpcPointPage(BaseModel):
    points: list[SpcPointOut] = Field(description="oldest first")
    next_cursor: str | None


class QualityCountOut(BaseModel):
    """Parts counted at one station in one hour (UTC), from the edge's counters."""

    area: str
    line: str
    station: str
    hour: datetime = Field(description="the start of the hour, UTC")
    inspected: int
    defective: int
    reworked: int


class QualityCounts(BaseModel):
    counts: list[QualityCountOut]
