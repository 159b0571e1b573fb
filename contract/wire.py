"""The wire contract between edge agents and the hub, written once and imported by both.

An event travels as JSON on an MQTT topic of an ISA-95-style, versioned namespace::

    <prefix>/v1/<site>/<area>/<line>/<station>/event        call, arrival, anomaly events
    <prefix>/v1/<site>/edge/<edge_id>/measurement           one poll cycle's measurements
    <prefix>/v1/<site>/edge/<edge_id>/event                 device status events
    <prefix>/v1/<site>/edge/<edge_id>/status                 retained "online" / "offline"

The event id is ``<edge_id>:<seq>``; ``seq`` increases by one per event on each edge and
survives restarts, so the hub can deduplicate at-least-once delivery.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

CONTRACT_VERSION = "v1"
MAX_PAYLOAD_BYTES = 64 * 1024
EDGE_ONLINE = "online"
EDGE_OFFLINE = "offline"

NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
Name = Annotated[str, Field(pattern=NAME_PATTERN)]


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() != UTC.utcoffset(None):
        raise ValueError("timestamp must be in UTC (end it with Z or +00:00)")
    return value


UtcTimestamp = Annotated[datetime, AfterValidator(_require_utc)]


class CallPayload(BaseModel):
    """A station asks for help of one call type."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    call_type: Name


class PartRef(BaseModel):
    """The part at a station when the event happened: its serial number and/or lot."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    serial: str | None = Field(default=None, max_length=128)
    lot: str | None = Field(default=None, max_length=128)


class ArrivalPayload(BaseModel):
    """The responder is at the station (the station's arrival button).

    Without ``call_type`` it marks the station's oldest open call."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    call_type: Name | None = None


# seq is stored as a signed 64-bit integer: anything larger is a broken edge.
MAX_SEQ = 2**63 - 1


class EdgeEnvelope(BaseModel):
    """What every event an edge publishes carries, whatever its kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str
    edge_id: Name
    seq: int = Field(ge=1, le=MAX_SEQ)
    ts: UtcTimestamp
    site: Name
    area: Name
    line: Name

    @model_validator(mode="after")
    def _event_id_matches(self) -> Self:
        if self.event_id != make_event_id(self.edge_id, self.seq):
            raise ValueError(f"event_id must be '{make_event_id(self.edge_id, self.seq)}'")
        return self


class Envelope(EdgeEnvelope):
    """What every event of a station carries: the station, and the part there if known.

    ``part`` is left out of the JSON when the station has no part id."""

    station: Name
    part: PartRef | None = None


class Event(Envelope):
    """A station asks for help: a button press or a cord pull."""

    kind: Literal["call"]
    payload: CallPayload


class ArrivalEvent(Envelope):
    """A responder confirmed arrival at the station."""

    kind: Literal["arrival"]
    payload: ArrivalPayload


CallEvent = Event


class AnomalyPayload(BaseModel):
    """A control chart test failed on a new subgroup of a characteristic."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    characteristic: str = Field(min_length=1, max_length=64)
    chart: str = Field(min_length=1, max_length=16)
    measurement: str = Field(min_length=1, max_length=64)
    tests: list[int] = Field(min_length=1)
    value: float
    center: float
    lcl: float
    ucl: float
    subgroup: int = Field(ge=1, description="1-based number of the subgroup at this edge")


class AnomalyEvent(Envelope):
    """A special cause seen by the SPC core at the edge."""

    kind: Literal["anomaly"]
    payload: AnomalyPayload


MeasuredValue = bool | int | float | str


class MeasurementReading(BaseModel):
    """One measurement's value (after scale and offset), its station and engineering unit."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    station: Name
    name: str = Field(min_length=1, max_length=64)
    value: MeasuredValue
    unit: str | None = Field(default=None, max_length=32)
    part: PartRef | None = None


class SpcPoint(BaseModel):
    """One charted subgroup of a characteristic: its statistic, the chart's lines for it
    and the tests it failed (none, mostly)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    station: Name
    characteristic: str = Field(min_length=1, max_length=64)
    chart: str = Field(min_length=1, max_length=16)
    measurement: str = Field(min_length=1, max_length=64)
    subgroup: int = Field(ge=1, le=MAX_SEQ)
    value: float
    center: float
    lcl: float
    ucl: float
    tests: list[Annotated[int, Field(ge=1, le=8)]] = Field(max_length=8)
    part: PartRef | None = None


class MeasurementPayload(BaseModel):
    """Everything one edge read in one poll cycle (``ts`` of the envelope): the readings
    of every station, and the SPC points those readings closed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    readings: list[MeasurementReading] = Field(default_factory=list)
    points: list[SpcPoint] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.readings and not self.points:
            raise ValueError("a measurement message carries readings, points or both")
        return self


class MeasurementEvent(EdgeEnvelope):
    """One poll cycle's measurements of an edge, on the edge's ``measurement`` topic:
    for the hub's charts and quality counters and for a time-series database. Droppable
    under a quota; never sent ahead of a call."""

    kind: Literal["measurement"]
    payload: MeasurementPayload


class DeviceStatusPayload(BaseModel):
    """A device an edge polls stopped answering (``offline``) or answers again."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    device: Name
    status: Literal["online", "offline"]
    reason: str = Field(default="", max_length=256)


class DeviceStatusEvent(EdgeEnvelope):
    """A device of the edge went offline or came back; on the edge's own event topic."""

    kind: Literal["device_status"]
    payload: DeviceStatusPayload


StationEvent = Event | ArrivalEvent | AnomalyEvent
"""What a station's ``event`` topic carries (measurements have a topic of their own)."""

STATION_EVENT: TypeAdapter[StationEvent] = TypeAdapter(
    Annotated[StationEvent, Field(discriminator="kind")]
)

AnyEvent = Annotated[
    Event | ArrivalEvent | AnomalyEvent | MeasurementEvent | DeviceStatusEvent,
    Field(discriminator="kind"),
]
"""Every event kind, told apart by ``kind``."""

_ANY_EVENT: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)
MEASUREMENT_EVENT: TypeAdapter[MeasurementEvent] = TypeAdapter(MeasurementEvent)
DEVICE_STATUS_EVENT: TypeAdapter[DeviceStatusEvent] = TypeAdapter(DeviceStatusEvent)


def parse_any_event(payload: bytes | str) -> AnyEvent:
    """Validate a JSON event of any kind; raises pydantic's ValidationError."""
    return _ANY_EVENT.validate_json(payload)


def event_json(event: AnyEvent) -> str:
    """The JSON of ``event`` as it goes on the wire: optional fields left out when unset."""
    return event.model_dump_json(exclude_none=True)


def make_event_id(edge_id: str, seq: int) -> str:
    """The dedup key of an event: edge id and its per-edge sequence number."""
    return f"{edge_id}:{seq}"


class Topics:
    """Builds and parses the topic layout under one prefix (``andon`` by default)."""

    def __init__(self, prefix: str = "andon") -> None:
        self.root = f"{prefix}/{CONTRACT_VERSION}"

    def event(self, site: str, area: str, line: str, station: str) -> str:
        return f"{self.root}/{site}/{area}/{line}/{station}/event"

    def measurement(self, site: str, edge_id: str) -> str:
        return f"{self.root}/{site}/edge/{edge_id}/measurement"

    def edge_status(self, site: str, edge_id: str) -> str:
        return f"{self.root}/{site}/edge/{edge_id}/status"

    def edge_event(self, site: str, edge_id: str) -> str:
        return f"{self.root}/{site}/edge/{edge_id}/event"

    def measurement_filter(self, site: str) -> str:
        return f"{self.root}/{site}/edge/+/measurement"

    def edge_event_filter(self, site: str) -> str:
        return f"{self.root}/{site}/edge/+/event"

    def event_filter(self, site: str) -> str:
        return f"{self.root}/{site}/+/+/+/event"

    def edge_status_filter(self, site: str) -> str:
        return f"{self.root}/{site}/edge/+/status"

    def parse_event(self, topic: str) -> tuple[str, str, str, str] | None:
        """Return (site, area, line, station) of an event topic, or None."""
        match = re.fullmatch(
            re.escape(self.root) + r"/([^/]+)/([^/]+)/([^/]+)/([^/]+)/event", topic
        )
        return None if match is None else (match[1], match[2], match[3], match[4])

    def parse_edge_event(self, topic: str) -> tuple[str, str] | None:
        """Return (site, edge_id) of an edge's own event topic, or None."""
        match = re.fullmatch(re.escape(self.root) + r"/([^/]+)/edge/([^/]+)/event", topic)
        return None if match is None else (match[1], match[2])

    def parse_measurement(self, topic: str) -> tuple[str, str] | None:
        """Return (site, edge_id) of an edge's measurement topic, or None."""
        match = re.fullmatch(re.escape(self.root) + r"/([^/]+)/edge/([^/]+)/measurement", topic)
        return None if match is None else (match[1], match[2])

    def parse_edge_status(self, topic: str) -> tuple[str, str] | None:
        """Return (site, edge_id) of an edge status topic, or None."""
        match = re.fullmatch(re.escape(self.root) + r"/([^/]+)/edge/([^/]+)/status", topic)
        return None if match is None else (match[1], match[2])


def utc_now() -> datetime:
    """The current time in UTC, the only clock the contract knows."""
    return datetime.now(UTC)
