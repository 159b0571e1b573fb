"""The wire contract between edge agents and the hub, written once and imported by both.

An event travels as JSON on an MQTT topic of an ISA-95-style, versioned namespace::

    <prefix>/v1/<site>/<area>/<line>/<station>/event/<edge_id>  a station's events (calls,
                                                            arrivals, anomalies...), by edge
    <prefix>/v1/<site>/<area>/<line>/<station>/event        the same, from edges before the
                                                            edge id was in the topic
    <prefix>/v1/<site>/<area>/<line>/<station>/light        retained light command (hub)
    <prefix>/v1/<site>/edge/<edge_id>/measurement           one poll cycle's measurements
    <prefix>/v1/<site>/edge/<edge_id>/event                 device status events
    <prefix>/v1/<site>/edge/<edge_id>/status                 retained session status (edge)
    <prefix>/v1/<site>/edge/<edge_id>/ack                   the hub's confirmations
    <prefix>/v1/<site>/hub/status                           retained session status (hub)

The event id is ``<edge_id>:<seq>``; ``seq`` increases by one per event on each edge and
survives restarts, so the hub can deduplicate at-least-once delivery.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from contract.bounds import (
    INT32_MAX,
    INT64_MIN,
    UINT64_MAX,
    FiniteFloat,
    Int64,
    WireText,
)

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
    serial: WireText | None = Field(default=None, max_length=128)
    lot: WireText | None = Field(default=None, max_length=128)


class ArrivalPayload(BaseModel):
    """The responder is at the station (the station's arrival button, or a badge scanned
    at the station's badge scanner).

    Without ``call_type`` it marks the station's oldest open call. With ``badge``, the hub
    names the person the badge belongs to (its ``auth.badges``), and ignores an unknown
    badge."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    call_type: Name | None = None
    badge: WireText | None = Field(default=None, min_length=1, max_length=64)


# seq is stored as a signed 64-bit integer: anything larger is a broken edge.
MAX_SEQ = 2**63 - 1


class EdgeEnvelope(BaseModel):
    """What every event an edge publishes carries, whatever its kind.

    ``historical`` is true on an event replayed from the edge's backlog (stored before
    the connection it is sent on, or sent again): it happened at ``ts``, not just now."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str = Field(max_length=100)
    edge_id: Name
    seq: int = Field(ge=1, le=MAX_SEQ)
    ts: UtcTimestamp
    site: Name
    area: Name
    line: Name
    historical: bool | None = None

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


TestNumber = Annotated[int, Field(ge=1, le=8)]
"""A run rule's number (1 to 8, Nelson's order)."""


def _distinct(tests: list[int]) -> list[int]:
    if len(set(tests)) != len(tests):
        raise ValueError("each test is named once")
    return tests


TestNumbers = Annotated[list[TestNumber], Field(max_length=8), AfterValidator(_distinct)]
"""The tests a subgroup failed: distinct numbers, at most the eight there are."""


class AnomalyPayload(BaseModel):
    """A control chart test failed on a new subgroup of a characteristic."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    characteristic: WireText = Field(min_length=1, max_length=64)
    chart: WireText = Field(min_length=1, max_length=16)
    measurement: WireText = Field(min_length=1, max_length=64)
    tests: TestNumbers = Field(min_length=1)
    value: FiniteFloat
    center: FiniteFloat
    lcl: FiniteFloat
    ucl: FiniteFloat
    subgroup: int = Field(ge=1, le=MAX_SEQ, description="1-based subgroup number at this edge")


class AnomalyEvent(Envelope):
    """A special cause seen by the SPC core at the edge."""

    kind: Literal["anomaly"]
    payload: AnomalyPayload


MeasuredValue = bool | int | float | str


def _register_sized(value: MeasuredValue) -> MeasuredValue:
    # After the union rather than a bounded integer inside it: an integer too large for
    # a bounded branch would be taken by the float branch (and checking before the union
    # costs twice as much per reading).
    if type(value) is int and not INT64_MIN <= value <= UINT64_MAX:
        raise ValueError(f"an integer reading must fit 64 bits ({INT64_MIN} to {UINT64_MAX})")
    return value


# What a reading may hold on the wire: a 64-bit register's integer, a finite float, text.
_WireValue = Annotated[
    bool | int | FiniteFloat | Annotated[WireText, Field(max_length=1024)],
    AfterValidator(_register_sized),
]
# One message holds at most what fits in MAX_PAYLOAD_BYTES; no reading or point is
# shorter than 32 bytes of JSON.
MAX_ITEMS = MAX_PAYLOAD_BYTES // 32


class MeasurementReading(BaseModel):
    """One measurement's value (after scale and offset), its station and engineering unit."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    station: Name
    name: WireText = Field(min_length=1, max_length=64)
    value: _WireValue
    unit: WireText | None = Field(default=None, max_length=32)
    part: PartRef | None = None


class SpcPoint(BaseModel):
    """One charted subgroup of a characteristic: its statistic, the chart's lines for it
    and the tests it failed (none, mostly)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    station: Name
    characteristic: WireText = Field(min_length=1, max_length=64)
    chart: WireText = Field(min_length=1, max_length=16)
    measurement: WireText = Field(min_length=1, max_length=64)
    subgroup: int = Field(ge=1, le=MAX_SEQ)
    value: FiniteFloat
    center: FiniteFloat
    lcl: FiniteFloat
    ucl: FiniteFloat
    tests: TestNumbers
    part: PartRef | None = None
    # The measurement's engineering unit, as its readings carry it; optional, so that an
    # edge from before it was sent is still understood (the hub shows no unit then).
    unit: WireText | None = Field(default=None, max_length=32)


class MeasurementPayload(BaseModel):
    """Everything one edge read in one poll cycle (``ts`` of the envelope): the readings
    of every station, and the SPC points those readings closed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    readings: list[MeasurementReading] = Field(default_factory=list, max_length=MAX_ITEMS)
    points: list[SpcPoint] = Field(default_factory=list, max_length=MAX_ITEMS)

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
    reason: WireText = Field(default="", max_length=256)


class DeviceStatusEvent(EdgeEnvelope):
    """A device of the edge went offline or came back; on the edge's own event topic."""

    kind: Literal["device_status"]
    payload: DeviceStatusPayload


class FaultPayload(BaseModel):
    """Something at a station the edge noticed and people should see.

    ``light_mismatch``: the light outputs read back other than written (``expected`` and
    ``read_back`` name each output's value); ``chatter``: more than the configured number
    of presses in a minute (``presses``), reported once, the presses beyond it dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    fault: Literal["light_mismatch", "chatter"]
    device: Name | None = None
    detail: WireText = Field(default="", max_length=256)
    expected: dict[Name, Int64] | None = Field(default=None, max_length=16)
    read_back: dict[Name, Int64] | None = Field(default=None, max_length=16)
    presses: int | None = Field(default=None, ge=1, le=INT32_MAX)


class FaultEvent(Envelope):
    """A fault at a station: kept by the hub (in its audit log) and shown there."""

    kind: Literal["fault"]
    payload: FaultPayload


class OutputPayload(BaseModel):
    """An output of the station that stops or frees the line was written and read back as
    commanded: ``value`` 1 when the line-stop output is set, 0 when it is released."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    output: Literal["line_stop"]
    value: Literal[0, 1]
    device: Name | None = None


class OutputEvent(Envelope):
    """The outcome of the hub's line-stop command at a station, for the call's timeline."""

    kind: Literal["output"]
    payload: OutputPayload


MachineState = Literal[
    "running", "idle", "down", "starved", "blocked", "changeover", "planned_stop"
]
MACHINE_STATES: tuple[MachineState, ...] = (
    "running", "idle", "down", "starved", "blocked", "changeover", "planned_stop",
)  # fmt: skip
# A part counter's reading, signed ones taken modulo their range (stored as a signed 64 bits).
CounterValue = Annotated[int, Field(ge=0, le=2**63 - 1)]


class MachineFault(BaseModel):
    """The fault code a machine shows: its reason code at the hub (``reason``), the call
    type it raises, and whether the machine's return to 0 resolves that call."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: Int64
    reason: Name
    name: WireText = Field(default="", max_length=128)
    resolve: Literal["cleared", "responder"] = "cleared"


class MachinePayload(BaseModel):
    """A machine's state as its edge saw it at ``ts``, sent whenever the state, the fault
    code or a part counter changed (and once when the edge starts).

    ``parts`` and ``rejects`` are the raw counter readings (the hub counts their steps,
    reset and wrap safe, with ``wraps_at``: the counter's type range); ``call_type`` is
    set while a fault code other than 0 is shown."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    state: MachineState
    fault: MachineFault | None = None
    call_type: Name | None = None
    parts: CounterValue | None = None
    rejects: CounterValue | None = None
    wraps_at: int | None = Field(default=None, ge=2, le=2**63)
    ideal_cycle_s: float | None = Field(default=None, gt=0, le=86_400)

    @model_validator(mode="after")
    def _fault_calls(self) -> Self:
        if (self.fault is None) != (self.call_type is None):
            raise ValueError("a fault and its call_type come together")
        return self


class MachineEvent(Envelope):
    """A machine's state, fault code and part counters at a station."""

    kind: Literal["machine"]
    payload: MachinePayload


StationEvent = Event | ArrivalEvent | AnomalyEvent | FaultEvent | OutputEvent | MachineEvent
"""What a station's ``event`` topic carries (measurements have a topic of their own)."""

STATION_EVENT: TypeAdapter[StationEvent] = TypeAdapter(
    Annotated[StationEvent, Field(discriminator="kind")]
)

AnyEvent = Annotated[
    Event
    | ArrivalEvent
    | AnomalyEvent
    | FaultEvent
    | OutputEvent
    | MachineEvent
    | MeasurementEvent
    | DeviceStatusEvent,
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


def as_historical(body: str) -> str:
    """The JSON ``body`` of a stored event, flagged ``historical`` for a replay.

    Bodies are stored as the edge wrote them (a JSON object, no ``historical`` key);
    adding the key in front costs no parse, which keeps a backlog replay fast."""
    return '{"historical":true,' + body[1:]


def make_event_id(edge_id: str, seq: int) -> str:
    """The dedup key of an event: edge id and its per-edge sequence number."""
    return f"{edge_id}:{seq}"


class SessionStatus(BaseModel):
    """The retained status of an edge agent or of the hub, Sparkplug-style.

    ``session`` increases at every connect of its publisher, and the Last Will carries
    the session it was set for: an ``offline`` of an older session (a late will, a stray
    retained message) is not news and is ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    status: Literal["online", "offline"]
    session: int = Field(ge=0, le=MAX_SEQ)


_SESSION_STATUS: TypeAdapter[SessionStatus] = TypeAdapter(SessionStatus)


def parse_session_status(payload: bytes | str) -> SessionStatus:
    """A status payload: JSON, or the plain ``online``/``offline`` of edges before
    sessions (session 0, so any session-numbered state outranks it). ValueError if not."""
    text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else payload
    if text in (EDGE_ONLINE, EDGE_OFFLINE):
        return SessionStatus(status="online" if text == EDGE_ONLINE else "offline", session=0)
    try:
        return _SESSION_STATUS.validate_json(text)
    except ValidationError as exc:
        raise ValueError(f"status {text[:40]!r}: {exc.errors()[0]['msg']}") from exc


# A confirmation names the events of one batch (at most a thousand, so as many ranges).
MAX_RANGES = 1000
SeqRange = tuple[Annotated[int, Field(ge=1, le=MAX_SEQ)], Annotated[int, Field(ge=1, le=MAX_SEQ)]]


class Confirmation(BaseModel):
    """The hub's word to one edge, after its commit: these events are safely kept
    (``confirmed``: applied now or before) or never will be (``rejected``: they break the
    contract; the hub logged why). Both as inclusive ranges of ``seq``; the edge deletes
    them from its outbox."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    confirmed: list[SeqRange] = Field(default_factory=list, max_length=MAX_RANGES)
    rejected: list[SeqRange] = Field(default_factory=list, max_length=MAX_RANGES)

    def seqs(self) -> list[int]:
        """Every sequence number this confirmation settles."""
        ranges = [*self.confirmed, *self.rejected]
        return [s for first, last in ranges for s in range(first, min(last + 1, first + MAX_RANGE))]


# One range settles at most this many events: a forged range cannot make an edge loop
# for ever (the hub sends ranges of one batch, at most a thousand events).
MAX_RANGE = 100_000


def seq_ranges(seqs: list[int]) -> list[SeqRange]:
    """Sorted, merged inclusive ranges covering ``seqs``."""
    ranges: list[list[int]] = []
    for seq in sorted(set(seqs)):
        if ranges and seq == ranges[-1][1] + 1:
            ranges[-1][1] = seq
        else:
            ranges.append([seq, seq])
    return [(first, last) for first, last in ranges]


class LightCommand(BaseModel):
    """A station's tower light as the hub wants it (``rules.lights.station_light`` of its
    open calls), and whether escalation commands the station's line-stop output."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    colour: Literal["red", "amber", "blue", "green"]
    flashing: bool
    buzzer: bool
    state: Literal["raised", "acknowledged", "arrived", "idle"]
    line_stop: bool = False
    ts: UtcTimestamp


class Topics:
    """Builds and parses the topic layout under one prefix (``andon`` by default)."""

    def __init__(self, prefix: str = "andon") -> None:
        self.root = f"{prefix}/{CONTRACT_VERSION}"

    def event(self, site: str, area: str, line: str, station: str) -> str:
        """A station's event topic without the sender: what edges before the edge id was
        in the topic publish on (the hub takes it only where that is safe)."""
        return f"{self.root}/{site}/{area}/{line}/{station}/event"

    def station_event(self, site: str, area: str, line: str, station: str, edge_id: str) -> str:
        """A station's event as its edge sends it: the last level is the edge id, which
        the broker's ACL lets each edge's login write for its own id only."""
        return f"{self.event(site, area, line, station)}/{edge_id}"

    def measurement(self, site: str, edge_id: str) -> str:
        return f"{self.root}/{site}/edge/{edge_id}/measurement"

    def edge_status(self, site: str, edge_id: str) -> str:
        return f"{self.root}/{site}/edge/{edge_id}/status"

    def edge_event(self, site: str, edge_id: str) -> str:
        return f"{self.root}/{site}/edge/{edge_id}/event"

    def edge_ack(self, site: str, edge_id: str) -> str:
        return f"{self.root}/{site}/edge/{edge_id}/ack"

    def hub_status(self, site: str) -> str:
        return f"{self.root}/{site}/hub/status"

    def light(self, site: str, area: str, line: str, station: str) -> str:
        return f"{self.root}/{site}/{area}/{line}/{station}/light"

    def light_filter(self, site: str, area: str, line: str) -> str:
        return f"{self.root}/{site}/{area}/{line}/+/light"

    def parse_light(self, topic: str) -> str | None:
        """The station of a light topic, or None."""
        match = re.fullmatch(re.escape(self.root) + r"/[^/]+/[^/]+/[^/]+/([^/]+)/light", topic)
        return None if match is None else match[1]

    def measurement_filter(self, site: str) -> str:
        return f"{self.root}/{site}/edge/+/measurement"

    def edge_event_filter(self, site: str) -> str:
        return f"{self.root}/{site}/edge/+/event"

    def event_filter(self, site: str) -> str:
        return f"{self.root}/{site}/+/+/+/event"

    def station_event_filter(self, site: str) -> str:
        return f"{self.root}/{site}/+/+/+/event/+"

    def edge_status_filter(self, site: str) -> str:
        return f"{self.root}/{site}/edge/+/status"

    def parse_event(self, topic: str) -> tuple[str, str, str, str] | None:
        """Return (site, area, line, station) of an event topic, or None."""
        match = re.fullmatch(
            re.escape(self.root) + r"/([^/]+)/([^/]+)/([^/]+)/([^/]+)/event", topic
        )
        return None if match is None else (match[1], match[2], match[3], match[4])

    def parse_station_event(self, topic: str) -> tuple[str, str, str, str, str] | None:
        """Return (site, area, line, station, edge_id) of a station event topic that names
        its edge, or None."""
        match = re.fullmatch(
            re.escape(self.root) + r"/([^/]+)/([^/]+)/([^/]+)/([^/]+)/event/([^/]+)", topic
        )
        return None if match is None else (match[1], match[2], match[3], match[4], match[5])

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
