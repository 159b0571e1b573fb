"""Measurement messages as an edge publishes them, and the hub's measurement writer and
routes, for the hub's measurement tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from contract.wire import MeasurementEvent, Topics, event_json, make_event_id
from hub.access.permissions import Role
from hub.measurements.repository import MeasurementStore
from hub.measurements.subscription import MeasurementSubscriber
from hub.process.live_config import LiveConfig
from tests.helpers.hub import SITE, HubUnderTest

T0 = datetime(2026, 12, 1, 8, 0, 0, tzinfo=UTC)


QUALITY = {
    "line": "line1", "station": "st10", "inspected": "made", "defective": "bad",
    "wraps_at": 65536, "max_increment": 1000,
}  # fmt: skip


def measurement_writer(app: FastAPI) -> MeasurementSubscriber:
    """The measurement process's writer, here in the test's process on the hub's database
    and running configuration (``write`` is what its writer task calls)."""
    live: LiveConfig = app.state.config
    return MeasurementSubscriber(
        config=lambda: live.current, store=MeasurementStore(app.state.store)
    )


def message(
    seq: int,
    *,
    at: datetime = T0,
    readings: list[dict[str, Any]] | None = None,
    points: list[dict[str, Any]] | None = None,
    edge_id: str = "edge-1",
) -> tuple[str, bytes]:
    """A measurement message as an edge publishes it: (topic, payload)."""
    event = MeasurementEvent.model_validate(
        {
            "event_id": make_event_id(edge_id, seq), "edge_id": edge_id, "seq": seq,
            "ts": at, "site": SITE, "area": "assembly", "line": "line1",
            "kind": "measurement",
            "payload": {"readings": readings or [], "points": points or []},
        }
    )  # fmt: skip
    return Topics().measurement(SITE, edge_id), event_json(event).encode()


def point(subgroup: int, value: float, *tests: int, **extra: Any) -> dict[str, Any]:
    return {
        "station": "st10", "characteristic": "bore", "chart": "imr", "measurement": "bore_mm",
        "subgroup": subgroup, "value": value, "center": 10.0, "lcl": 9.7, "ucl": 10.3,
        "tests": list(tests),
    } | extra  # fmt: skip


def counters(made: int, bad: int) -> list[dict[str, Any]]:
    return [
        {"station": "st10", "name": "made", "value": made},
        {"station": "st10", "name": "bad", "value": bad},
        {"station": "st20", "name": "made", "value": 10**9},  # st20 has no counters
    ]


async def get(hub: HubUnderTest, path: str, **params: Any) -> Any:
    async with hub.client(Role.VIEWER) as client:
        response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()
