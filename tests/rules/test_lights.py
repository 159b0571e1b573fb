"""The tower light of a station, from its open calls (IEC 60204-1 colours)."""

from __future__ import annotations

import pytest

from rules.lights import IDLE, Colour, LightState, OpenCall, station_light


def test_no_open_call_is_green_and_quiet() -> None:
    assert station_light([]) == IDLE == LightState(Colour.GREEN, False, False, "idle")


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("raised", LightState(Colour.AMBER, flashing=True, buzzer=True, state="raised")),
        (
            "acknowledged",
            LightState(Colour.BLUE, flashing=False, buzzer=False, state="acknowledged"),
        ),
        ("arrived", LightState(Colour.AMBER, flashing=False, buzzer=False, state="arrived")),
    ],
)
def test_one_call_sets_the_colour_of_its_state(state: str, expected: LightState) -> None:
    assert station_light([OpenCall(state)]) == expected


def test_a_line_down_call_is_red_and_outranks_every_other() -> None:
    calls = [OpenCall("raised"), OpenCall("arrived", line_down=True)]
    assert station_light(calls) == LightState(Colour.RED, False, False, "arrived")
    assert station_light([OpenCall("raised", line_down=True)]).flashing


def test_the_call_nobody_has_answered_decides() -> None:
    calls = [OpenCall("arrived"), OpenCall("acknowledged"), OpenCall("raised")]
    assert station_light(calls).state == "raised"
    assert station_light(calls[:2]).colour is Colour.BLUE
