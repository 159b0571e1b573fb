"""The call lifecycle as a table: which action leads where, from which states.

raised -> acknowledged -> arrived -> resolved -> verified; ``cancelled`` ends a mistaken
call. Verification is asked for per call type; without it, resolved is final. A
responder who walks up without acknowledging on a phone may mark arrival directly.
Pure: time is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class CallState(StrEnum):
    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    ARRIVED = "arrived"
    RESOLVED = "resolved"
    VERIFIED = "verified"
    CANCELLED = "cancelled"


# A press of the same station and call type joins a call in one of these states.
OPEN_STATES = (CallState.RAISED, CallState.ACKNOWLEDGED, CallState.ARRIVED)


class Source(StrEnum):
    """Where a transition came from."""

    API = "api"
    STATION = "station"
    HUB = "hub"
    BADGE = "badge"  # a responder's badge scanned at the station


@dataclass(frozen=True)
class Actor:
    """Who did something, and from where: a token's name, or a station."""

    name: str
    source: Source


@dataclass(frozen=True)
class Transition:
    target: CallState
    allowed_from: tuple[CallState, ...]
    stamp: str  # the column that keeps when it happened


TRANSITIONS: dict[str, Transition] = {
    "acknowledge": Transition(CallState.ACKNOWLEDGED, (CallState.RAISED,), "acknowledged_at"),
    "arrive": Transition(
        CallState.ARRIVED, (CallState.RAISED, CallState.ACKNOWLEDGED), "arrived_at"
    ),
    "resolve": Transition(CallState.RESOLVED, OPEN_STATES, "resolved_at"),
    "verify": Transition(CallState.VERIFIED, (CallState.RESOLVED,), "verified_at"),
    "cancel": Transition(CallState.CANCELLED, OPEN_STATES, "cancelled_at"),
}


@dataclass(frozen=True)
class Durations:
    """Seconds from the press; None while the step has not happened."""

    to_acknowledge_s: float | None
    to_arrive_s: float | None
    to_resolve_s: float | None
    unattended_s: float  # raised and not acknowledged, plus acknowledged and not arrived


def durations(
    *,
    raised_at: datetime,
    acknowledged_at: datetime | None,
    arrived_at: datetime | None,
    resolved_at: datetime | None,
    cancelled_at: datetime | None,
    now: datetime,
) -> Durations:
    """A call's durations; an open step counts up to ``now`` (or to when the call closed).

    Arrival without acknowledgement counts as acknowledged on arrival."""

    def since_raised(moment: datetime | None) -> float | None:
        return None if moment is None else (moment - raised_at).total_seconds()

    end = resolved_at or cancelled_at or now
    acknowledged = acknowledged_at or arrived_at
    waiting_for_ack = ((acknowledged or end) - raised_at).total_seconds()
    waiting_for_arrival = (
        0.0 if acknowledged is None else ((arrived_at or end) - acknowledged).total_seconds()
    )
    return Durations(
        to_acknowledge_s=since_raised(acknowledged),
        to_arrive_s=since_raised(arrived_at),
        to_resolve_s=since_raised(resolved_at),
        unattended_s=max(0.0, waiting_for_ack) + max(0.0, waiting_for_arrival),
    )
