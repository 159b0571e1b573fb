"""A station's tower light from its open calls, in the colours of IEC 60204-1.

Red is an emergency (a line-down call), amber is abnormal (a call waiting for someone, or
a responder working at the station), blue is action required (acknowledged: a responder
is on the way and the operator should expect them), green is normal. A call nobody has
acknowledged flashes and sounds the buzzer. The same table drives the hub's light
commands, the edge's local fallback and the andon board's tiles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Colour(StrEnum):
    RED = "red"
    AMBER = "amber"
    BLUE = "blue"
    GREEN = "green"


@dataclass(frozen=True)
class OpenCall:
    """What the light needs to know of one open call at the station."""

    state: str  # raised | acknowledged | arrived
    line_down: bool = False


@dataclass(frozen=True)
class LightState:
    colour: Colour
    flashing: bool
    buzzer: bool
    state: str  # the most urgent call's state, or "idle"


IDLE = LightState(Colour.GREEN, flashing=False, buzzer=False, state="idle")

# Most urgent first: a line-down call outranks every other, then by how little has happened.
_URGENCY = {"raised": 0, "acknowledged": 1, "arrived": 2}

_LIGHTS: dict[tuple[bool, str], tuple[Colour, bool, bool]] = {
    # (line_down, state): (colour, flashing, buzzer)
    (True, "raised"): (Colour.RED, True, True),
    (True, "acknowledged"): (Colour.RED, False, False),
    (True, "arrived"): (Colour.RED, False, False),
    (False, "raised"): (Colour.AMBER, True, True),
    (False, "acknowledged"): (Colour.BLUE, False, False),
    (False, "arrived"): (Colour.AMBER, False, False),
}


def station_light(calls: Iterable[OpenCall]) -> LightState:
    """The light of a station whose open calls are ``calls`` (none: green, steady)."""
    ranked = sorted(calls, key=lambda call: (not call.line_down, _URGENCY[call.state]))
    if not ranked:
        return IDLE
    top = ranked[0]
    colour, flashing, buzzer = _LIGHTS[(top.line_down, top.state)]
    return LightState(colour, flashing=flashing, buzzer=buzzer, state=top.state)
