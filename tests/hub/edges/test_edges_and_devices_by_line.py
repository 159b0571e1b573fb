"""/api/devices and /api/edges honour a token's lines like every other read: a device is
on the line of its edge's status event, and an edge on the lines where it reported a
device or charted a characteristic; an edge known on no line is the site-wide tokens'."""

from __future__ import annotations

import json

import pytest

from contract.wire import utc_now
from hub.access.permissions import Role
from hub.calls.station_events import IngestOutcome
from hub.edges.liveness import set_edge_status
from tests.helpers.hub import HubUnderTest

pytestmark = pytest.mark.asyncio


def _device_status(hub: HubUnderTest, edge: str, line: str, device: str) -> tuple[str, bytes]:
    event = {
        "event_id": f"{edge}:1", "edge_id": edge, "seq": 1, "ts": utc_now().isoformat(),
        "kind": "device_status", "site": "plant1", "area": "assembly", "line": line,
        "payload": {"device": device, "status": "offline", "reason": "timeout"},
    }  # fmt: skip
    return hub.ingest.topics.edge_event("plant1", edge), json.dumps(event).encode()


async def test_a_line_token_reads_only_its_lines_devices_and_edges(hub: HubUnderTest) -> None:
    reported = hub.ingest_presses(
        _device_status(hub, "edge-a", "line1", "plc1"),
        _device_status(hub, "edge-b", "line2", "plc2"),
    )
    assert reported == [IngestOutcome.DEVICE_STATUS] * 2
    for session, edge in enumerate(("edge-a", "edge-b", "edge-c"), start=1):
        set_edge_status(hub.store, edge, "online", session, utc_now())
    seen: dict[str, tuple[list[str], list[str]]] = {}
    for name, lines in (("line1", ("line1",)), ("line2", ("line2",)), ("all", ())):
        async with hub.client(Role.VIEWER, *lines) as viewer:
            devices = (await viewer.get("/api/devices")).json()["devices"]
            edges = (await viewer.get("/api/edges")).json()["edges"]
        seen[name] = ([d["device"] for d in devices], [e["edge_id"] for e in edges])
    assert seen == {
        "line1": (["plc1"], ["edge-a"]),
        "line2": (["plc2"], ["edge-b"]),
        "all": (["plc1", "plc2"], ["edge-a", "edge-b", "edge-c"]),
    }
