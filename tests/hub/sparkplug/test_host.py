"""The hub as a Sparkplug host application, against an edge node no one here wrote
(pysparkplug's, in a process of its own: tests/helpers/sparkplug_peer.py) on a real Mosquitto."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import httpx

from hub.access.permissions import Role
from testbed.broker import MosquittoBroker
from tests.helpers.live_hub import LiveHub, live_hub
from tests.helpers.sparkplug_peers import Peer
from tests.helpers.waiting import wait_until

GROUP, NODE, HOST_ID = "plant-north", "press-node", "andon-hub"


def _retained_state(broker: MosquittoBroker) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        async with aiomqtt.Client(broker.host, broker.port) as client:
            await client.subscribe(f"spBv1.0/STATE/{HOST_ID}", qos=1)
            async with asyncio.timeout(10):
                message = await anext(aiter(client.messages))
        assert message.retain
        body: dict[str, Any] = json.loads(bytes(message.payload))
        return body

    return asyncio.run(read())


def _edge_status(hub: LiveHub) -> str | None:
    headers = {"Authorization": f"Bearer {hub.token(Role.ADMIN)}"}
    edges = httpx.get(f"{hub.url}/api/edges", headers=headers, timeout=30).json()["edges"]
    return next((e["status"] for e in edges if e["edge_id"] == f"{GROUP}/{NODE}"), None)


def _calls(hub: LiveHub) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {hub.token(Role.ADMIN)}"}
    answer = httpx.get(f"{hub.url}/api/calls", headers=headers, timeout=30)
    calls: list[dict[str, Any]] = answer.json()["calls"]
    return calls


def _inspected(hub: LiveHub) -> int:
    now, hours = datetime.now(UTC), timedelta(hours=2)
    params = {
        "from": (now - hours).isoformat(), "to": (now + hours).isoformat(),
        "line": "line1", "station": "st10",
    }  # fmt: skip
    headers = {"Authorization": f"Bearer {hub.token(Role.ADMIN)}"}
    answer = httpx.get(f"{hub.url}/api/quality/counts", params=params, headers=headers, timeout=30)
    return sum(int(bucket["inspected"]) for bucket in answer.json()["counts"])


def test_the_hub_stores_mapped_metrics_raises_calls_asks_for_rebirth_and_sees_death(
    tmp_path: Path, broker: MosquittoBroker
) -> None:
    settings: dict[str, Any] = {
        "broker": {"host": broker.host, "port": broker.port},
        "sparkplug": {
            "host_id": HOST_ID, "groups": [GROUP],
            "measurements": [
                {"group": GROUP, "node": NODE, "device": "press1", "metric": "Count",
                 "line": "line1", "station": "st10", "measurement": "parts"},
            ],
            "calls": [
                {"group": GROUP, "node": NODE, "device": "press1", "metric": "Running",
                 "line": "line1", "station": "st20", "call_type": "maintenance"},
            ],
        },
        # The mapped metric counts parts: stored, it shows in the quality counts.
        "measurements": {"quality": [{"line": "line1", "station": "st10", "inspected": "parts"}]},
    }  # fmt: skip
    with live_hub(tmp_path, f"sqlite:///{tmp_path / 'hub.sqlite'}", **settings) as hub:
        wait_until(hub.app.state.sparkplug.connected.is_set, what="host connected")
        state = _retained_state(broker)
        assert state["online"] is True
        assert isinstance(state["timestamp"], int)
        edge = Peer("edge", str(broker.port), GROUP, NODE, "press1")
        try:
            wait_until(lambda: _edge_status(hub) == "online", what="the node online")
            # The birth's Count (0) is the counter's base; DDATA's 7 counts 7 parts.
            wait_until(lambda: hub.app.state.sparkplug.measurements.stored >= 1, what="base")
            edge.send({"device": {"Count": 7}})
            wait_until(lambda: _inspected(hub) == 7, what="7 parts inspected")
            # Running rises: one call; staying true in the next message raises no other
            # (counted by the host: /api/calls would show a second press joined).
            edge.send({"device": {"Running": True}})
            wait_until(lambda: len(_calls(hub)) == 1, what="the call raised")
            edge.send({"device": {"Running": True}})
            edge.send({"device": {"Count": 8}})
            wait_until(lambda: _inspected(hub) == 8, what="8 parts inspected")
            (call,) = _calls(hub)
            assert (call["line"], call["station"], call["call_type"]) == (
                "line1",
                "st20",
                "maintenance",
            )
            assert hub.app.state.sparkplug.calls.raised == 1
            # A message lost (seq skipped): the hub asks for the births again.
            edge.send({"gap": 1})
            edge.send({"device": {"Count": 9}})
            command = edge.wait_for("the NCMD", lambda line: "ncmd" in line)
            assert command["ncmd"] == [
                {"name": "Node Control/Rebirth", "datatype": "BOOLEAN", "value": True}
            ]
            # Killed: the broker publishes its Will, the NDEATH of the births' bdSeq. (Its
            # clean disconnect would not do: pysparkplug's own NDEATH then carries the
            # next connection's bdSeq, which a host must ignore.)
            edge.stop()
            wait_until(lambda: _edge_status(hub) == "offline", what="the node offline")
        finally:
            edge.stop()
        tokens = hub.tokens  # in the database, which the next hub shares
    # A restarted hub, and a node born again with Running still true: no second call.
    with live_hub(tmp_path, f"sqlite:///{tmp_path / 'hub.sqlite'}", **settings) as hub:
        hub.tokens.update(tokens)
        edge = Peer("edge", str(broker.port), GROUP, NODE, "press1", "true")
        try:
            host = hub.app.state.sparkplug
            # The birth's Count is stored after its Running is weighed: both are done.
            wait_until(lambda: host.measurements.stored >= 1, what="the birth taken in")
            assert host.calls.raised == 0
            assert len(_calls(hub)) == 1
        finally:
            edge.stop()
