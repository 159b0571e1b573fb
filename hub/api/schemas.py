"""Request and response bodies of the hub's API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contract.bounds import MultilineText, Text
from contract.wire import Name
from hub.access.permissions import Role
from hub.calls.lifecycle import CallState


class DurationsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    to_acknowledge_s: float | None
    to_arrive_s: float | None
    to_resolve_s: float | None
    unattended_s: float = Field(
        description="raised and not acknowledged, plus acknowledged and waiting for arrival"
    )


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
    raised_at: datetime = Field(description="the press, by the edge's clock")
    received_at: datetime | None = Field(description="when the hub received the press")
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    arrived_at: datetime | None
    resolved_at: datetime | None
    verified_at: datetime | None
    cancelled_at: datetime | None
    reason_code: str | None
    note: str | None
    cancel_reason: str | None
    needs_verification: bool
    part_serial: str | None = Field(description="the part at the station when raised")
    part_lot: str | None
    line_stop_at: datetime | None = Field(
        description="when escalation commanded the station's line-stop output"
    )
    characteristic: str | None = Field(
        default=None, description="the SPC characteristic the call was raised for"
    )
    recurrence_of: int | None = Field(
        default=None,
        description="the earlier call this one recurs: the same reason code (or "
        "characteristic) at the same station within recurrence_days of its fix",
    )
    root_cause: str | None = Field(default=None, description="given when it was resolved")
    countermeasure: str | None = Field(default=None, description="given when it was resolved")
    durations: DurationsOut


class TimelineEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    action: str
    state: str
    actor: str = Field(description="a token's name, or the station")
    source: str = Field(description="api, station or hub")
    detail: dict[str, Any]


class CallDetailOut(CallOut):
    timeline: list[TimelineEntryOut]


class CallPage(BaseModel):
    calls: list[CallOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


class RaiseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area: Name
    line: Name
    station: Name
    call_type: Name


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason_code: Text = Field(max_length=64, description="one of the hub's reason codes")
    note: MultilineText | None = Field(default=None, max_length=2000)
    root_cause: MultilineText | None = Field(
        default=None,
        max_length=2000,
        description="why it happened; needed to resolve a recurrence of a call type with "
        "root_cause_required",
    )
    countermeasure: MultilineText | None = Field(
        default=None, max_length=2000, description="what keeps it from happening again"
    )


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=1, max_length=2000)


class EdgeOut(BaseModel):
    edge_id: str
    status: str
    changed_at: datetime


class EdgePage(BaseModel):
    edges: list[EdgeOut]
    next_cursor: str | None


class Health(BaseModel):
    status: str = Field(description="ok, or failing (HTTP 503) with the reasons")
    broker_connected: bool
    measurements_subscribed: bool = Field(
        description="the measurement process is subscribed at the broker (its own connection)"
    )
    database_ok: bool
    problems: list[str]
    config_reload_ok: bool


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next_cursor: str | None


class DeadLetterOut(BaseModel):
    """A message ingest set aside: valid by the contract, refused by the database."""

    id: int
    at: datetime = Field(description="when the hub set it aside")
    path: str = Field(description="event (calls, anomalies, faults...) or measurement")
    topic: str = Field(description="control characters written as escapes")
    edge_id: str | None
    seq: int | None
    reason: str = Field(description="set_aside (the database refused it) or internal")
    detail: str = Field(description="what the database (or the hub) said")
    payload_size: int = Field(description="bytes received")
    payload_base64: str = Field(description="the payload as received (its first 64 KiB)")


class DeadLetterPage(BaseModel):
    letters: list[DeadLetterOut]
    next_cursor: str | None


class ReloadOut(BaseModel):
    ok: bool
    at: datetime | None
    errors: list[str]


# A token's lines are checked on every request: a plant has tens of lines, not thousands.
MAX_TOKEN_LINES = 100


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    role: Role
    lines: list[Name] = Field(
        default_factory=list,
        max_length=MAX_TOKEN_LINES,
        description="empty: every line; only viewer, station and responder tokens have lines",
    )


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    role: Role
    lines: list[str]
    created_at: datetime
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="shown once; the hub keeps only its hash")


class AnomalyOut(BaseModel):
    """A special cause the SPC core at an edge saw on a new subgroup."""

    id: int
    event_id: str
    site: str
    area: str
    line: str
    station: str
    characteristic: str
    chart: str
    measurement: str
    tests: list[int] = Field(description="the numbers of the tests that failed (1 to 8)")
    value: float
    center: float
    lcl: float
    ucl: float
    subgroup: int
    part_serial: str | None
    part_lot: str | None
    detected_at: datetime = Field(description="by the edge's clock")
    received_at: datetime


class AnomalyPage(BaseModel):
    anomalies: list[AnomalyOut]
    next_cursor: str | None


class DeviceOut(BaseModel):
    edge_id: str
    device: str
    status: str
    reason: str
    changed_at: datetime


class DevicePage(BaseModel):
    devices: list[DeviceOut]
    next_cursor: str | None


class NotificationOut(BaseModel):
    """One attempt to send one message, as the delivery log keeps it."""

    id: int
    key: str = Field(description="the same on every attempt of one message")
    attempt: int
    call_id: int | None
    level: int
    step_s: int = Field(description="seconds after the call was raised that the step fell due")
    person: str | None
    via: str = Field(description="person, roster:ID, fallback:ROSTER or url")
    channel: str = Field(description="the notification URL, secrets redacted")
    status: str = Field(description="queued, sending, sent, failed or unknown")
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    retry_at: datetime | None


class NotificationPage(BaseModel):
    notifications: list[NotificationOut]


class PhotoOut(BaseModel):
    id: int
    content_type: str = Field(description="image/jpeg, image/png or image/webp (as stored)")
    bytes: int = Field(description="the stored image's size, after re-encoding")
    created_at: datetime
    by: str = Field(description="who uploaded it: a token's name")


class PhotoList(BaseModel):
    photos: list[PhotoOut]


# A wall-clock date and time as an override is written (hub/shifts/overrides.py); a
# well-formed one the calendar or the hub's file refuses is a 409.
_LOCAL_DAY = "(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_LOCAL_TIME = "([01][0-9]|2[0-3]):[0-5][0-9]"


class OverrideIn(BaseModel):
    """``person`` covers ``covers`` from ``starts`` to ``ends``, the site's wall clock."""

    model_config = ConfigDict(extra="forbid")

    person: Name = Field(description="who answers: an id of the hub file's people")
    covers: Name = Field(description="for whom: an id of the hub file's people")
    starts: str = Field(
        pattern=f"^{_LOCAL_DAY}[T ]{_LOCAL_TIME}$",
        description="the site's local time, YYYY-MM-DD HH:MM (or with a T)",
    )
    ends: str = Field(
        pattern=f"^({_LOCAL_DAY}[T ])?{_LOCAL_TIME}$",
        description="YYYY-MM-DD HH:MM, or HH:MM alone: that time on the start's day, or "
        "the next day when it is not later",
    )
    note: Text = Field(default="", max_length=500)


class OverrideOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person: str = Field(description="who answers")
    covers: str = Field(description="for whom")
    starts_at: datetime
    ends_at: datetime
    timezone: str = Field(description="the site's time zone when it was made")
    starts_local: str = Field(description="starts_at on that time zone's clock")
    ends_local: str = Field(description="ends_at on that time zone's clock")
    note: str
    created_at: datetime
    created_by: str


class OverridesOut(BaseModel):
    overrides: list[OverrideOut]
