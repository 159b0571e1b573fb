"""Bodies of the machine routes: downtime periods, a period's reason, OEE rows."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from contract.bounds import MultilineText
from hub.api.parameters import Word


class DowntimeOut(BaseModel):
    """One stretch of a machine's state other than running (``end`` null while it lasts;
    ``seconds`` = end - start, null while it lasts)."""

    id: int
    line: str
    station: str
    state: str
    start: datetime
    end: datetime | None
    seconds: float | None
    reason: str | None
    fault_code: int | None
    call_id: int | None


class DowntimePage(BaseModel):
    periods: list[DowntimeOut]
    next_cursor: str | None


class DowntimeReasonIn(BaseModel):
    """The reason of a downtime period (a reason code of the hub's file) and a note."""

    model_config = ConfigDict(extra="forbid")
    reason: Word
    note: MultilineText | None = Field(default=None, max_length=2000)


class MachineStateOut(BaseModel):
    """A machine's state now, and since when (by its edge's clock)."""

    line: str
    station: str
    state: str
    since: datetime
    fault_code: int | None


class OeeRowOut(BaseModel):
    line: str
    station: str | None
    shift: str | None = None
    planned_s: float
    run_s: float
    down_s: float
    availability: float | None
    performance: float | None
    quality: float | None
    oee: float | None
    total: int
    good: int
    ideal_cycle_s: float | None
    micro_stops: int
    micro_stop_total_s: float


class OeeReport(BaseModel):
    since: datetime
    until: datetime
    rows: list[OeeRowOut]
