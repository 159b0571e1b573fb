"""What a broker heard from an edge agent on the test's topics (calls, measurements,
device statuses), and waiting for it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiomqtt

from contract.wire import Topics
from testbed.broker import MosquittoBroker

# A test fails after this long without what it waits for; nothing asserts durations.
WAIT_S = 15.0


class Heard:
    """Every message on the test's topics, in order, as (kind, payload)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("kind") == kind]

    async def until(self, ready: Callable[[], bool], what: str) -> None:
        async with asyncio.timeout(WAIT_S):
            while not ready():  # noqa: ASYNC110  # messages arrive from another task
                await asyncio.sleep(0.02)
        assert ready(), what


async def listen(broker: MosquittoBroker, topics: Topics, heard: Heard) -> None:
    async with aiomqtt.Client(broker.host, broker.port) as client:
        await client.subscribe(topics.station_event_filter("p"), qos=1)
        await client.subscribe(topics.edge_event("p", "edge-1"), qos=1)
        await client.subscribe(topics.measurement("p", "edge-1"), qos=1)
        async for message in client.messages:
            heard.messages.append(json.loads(bytes(message.payload)))


def forces(heard: Heard) -> list[float]:
    return [r["value"] for m in heard.kinds("measurement") for r in m["payload"]["readings"]]


def call_types(heard: Heard) -> list[str]:
    return [m["payload"]["call_type"] for m in heard.kinds("call")]


def statuses(heard: Heard) -> list[str]:
    return [m["payload"]["status"] for m in heard.kinds("device_status")]
