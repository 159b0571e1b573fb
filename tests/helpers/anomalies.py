"""SPC anomalies taken in by a hub under test, and calls raised for them through the API."""

from __future__ import annotations

import json
from typing import Any

from hub.access.permissions import Role
from hub.calls.station_events import IngestOutcome
from tests.helpers.hub import HubUnderTest


async def anomaly(
    hub: HubUnderTest, station: str, characteristic: str, *, line: str = "line1"
) -> int:
    """An anomaly published by the station's edge and taken in by ingest; its id."""
    topic, body = hub.press(station, line=line)
    event = json.loads(body) | {
        "kind": "anomaly",
        "payload": {
            "characteristic": characteristic, "chart": "imr", "measurement": characteristic,
            "tests": [1], "value": 10.42, "center": 10.0, "lcl": 9.7, "ucl": 10.3,
            "subgroup": hub.seq,
        },
        "part": {"serial": f"P-{hub.seq}"},
    }  # fmt: skip
    (outcome,) = hub.ingest_presses((topic, json.dumps(event).encode()))
    assert outcome is IngestOutcome.ANOMALY
    async with hub.client(Role.VIEWER) as client:
        listed = (await client.get("/api/anomalies", params={"limit": 1})).json()
    return int(listed["anomalies"][0]["id"])


async def call_for(hub: HubUnderTest, station: str, characteristic: str) -> dict[str, Any]:
    """A call raised through the API for a new anomaly on ``characteristic``."""
    anomaly_id = await anomaly(hub, station, characteristic)
    async with hub.client(Role.STATION) as client:
        response = await client.post(f"/api/anomalies/{anomaly_id}/call")
    assert response.status_code == 201, response.text
    call: dict[str, Any] = response.json()
    return call
