"""Measurement messages as an edge publishes them, for the time-series tests: readings of
every value type and SPC points of two characteristics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contract.wire import MeasurementEvent, make_event_id
from tests.helpers.deploy import SITE

EDGE = "edge-ts"

READINGS: list[dict[str, Any]] = [
    {"station": "st10", "name": "bore_mm", "value": 10.02, "unit": "mm"},
    {"station": "st10", "name": "parts_made", "value": 1234},
    {"station": "st10", "name": "clamp_closed", "value": True},
    {"station": "st10", "name": "recipe", "value": "A-17"},
]

POINTS: list[dict[str, Any]] = [
    {
        "station": "st10", "characteristic": "bore", "chart": "imr", "measurement": "bore_mm",
        "subgroup": 7, "value": 10.02, "center": 10.0, "lcl": 9.7, "ucl": 10.3, "tests": [],
    },
    {
        "station": "st10", "characteristic": "flatness", "chart": "xbar",
        "measurement": "flatness_um", "subgroup": 3, "value": 14.5, "center": 8.0,
        "lcl": 2.0, "ucl": 14.0, "tests": [1, 5],
    },
]  # fmt: skip


def measurement_event(
    seq: int,
    *,
    at: datetime,
    readings: list[dict[str, Any]] | None = None,
    points: list[dict[str, Any]] | None = None,
) -> MeasurementEvent:
    """One poll cycle of edge ``edge-ts`` on line1 (READINGS and POINTS unless given)."""
    return MeasurementEvent.model_validate(
        {
            "event_id": make_event_id(EDGE, seq), "edge_id": EDGE, "seq": seq, "ts": at,
            "site": SITE, "area": "assembly", "line": "line1", "kind": "measurement",
            "payload": {
                "readings": READINGS if readings is None else readings,
                "points": POINTS if points is None else points,
            },
        }
    )  # fmt: skip
