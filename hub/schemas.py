"""Request and response bodies of the hub's API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hub.store import CallState


class CallOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    site: str
    area: str
    line: str
    station: str
    call_type: str
    state: CallState
    presses: int = Field(description="button presses joined into this call")
    first_event_id: str
    raised_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    reason_code: str | None
    note: str | None


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason_code: str = Field(description="one of the hub's configured reason codes")
    note: str | None = Field(default=None, max_length=2000)


class EdgeOut(BaseModel):
    edge_id: str
    status: str
    changed_at: datetime


class Health(BaseModel):
    status: str
    broker_connected: bool
