"""What contract/mqtt.py takes from inside aiomqtt, on a real client and a real Mosquitto.

The hub and the edge reach past aiomqtt's API there (its paho client ``_client`` and its
message queue ``_queue``). An aiomqtt release within the pinned range that renames or
changes them fails these tests, before it fails a plant.
"""

from __future__ import annotations

import asyncio
import tomllib
from importlib.metadata import version
from pathlib import Path

import aiomqtt
import paho.mqtt.client as paho
import pytest
from packaging.requirements import Requirement

from contract.config.models import BrokerConfig
from contract.mqtt import (
    acknowledge,
    acknowledge_manually,
    error_text,
    is_connected,
    mqtt_client,
    publish_now,
    waiting_messages,
)
from testbed.broker import MosquittoBroker
from tests.helpers.waiting import until

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 10.0  # generous: CI is a small, busy machine; nothing here measures speed


def _client(broker: MosquittoBroker, identifier: str, *, persistent: bool) -> aiomqtt.Client:
    config = BrokerConfig(host=broker.host, port=broker.port)
    return mqtt_client(config, identifier=identifier, persistent=persistent)


async def _publish(broker: MosquittoBroker, topic: str, *payloads: bytes) -> None:
    async with _client(broker, f"{topic}-publisher", persistent=False) as publisher:
        for payload in payloads:
            await publisher.publish(topic, payload, qos=1)


def _pinned_aiomqtt() -> Requirement:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = [Requirement(line) for line in pyproject["project"]["dependencies"]]
    return next(r for r in requirements if r.name == "aiomqtt")


def test_the_installed_aiomqtt_is_in_the_pinned_range() -> None:
    """The tests below speak for the range pyproject.toml pins, not for any release."""
    assert version("aiomqtt") in _pinned_aiomqtt().specifier


@pytest.mark.asyncio
async def test_the_private_parts_are_what_the_wrapper_expects(
    broker: MosquittoBroker, topic_prefix: str
) -> None:
    async with _client(broker, topic_prefix, persistent=False) as client:
        assert isinstance(client._client, paho.Client)
        assert isinstance(client._queue, asyncio.Queue)
        # The public length of the messages is the queue's: both are one queue.
        await client.subscribe(f"{topic_prefix}/#", qos=1)
        await _publish(broker, f"{topic_prefix}/a", b"1", b"2")
        await until(
            lambda: len(client.messages) == 2, timeout=WAIT_S, what="two messages are queued"
        )
        assert client._queue.qsize() == 2


@pytest.mark.asyncio
async def test_waiting_messages_takes_only_what_is_queued_and_at_most_the_limit(
    broker: MosquittoBroker, topic_prefix: str
) -> None:
    topic = f"{topic_prefix}/calls"
    async with _client(broker, topic_prefix, persistent=False) as client:
        await client.subscribe(topic, qos=1)
        assert waiting_messages(client, 10) == []
        await _publish(broker, topic, b"1", b"2", b"3", b"4")
        first = await asyncio.wait_for(anext(client.messages), WAIT_S)
        await until(
            lambda: len(client.messages) == 3, timeout=WAIT_S, what="the other three are queued"
        )
        taken = waiting_messages(client, 2)
        assert [first.payload, *(m.payload for m in taken)] == [b"1", b"2", b"3"]
        assert [m.payload for m in waiting_messages(client, 10)] == [b"4"]
        assert len(client.messages) == 0


@pytest.mark.asyncio
async def test_a_message_left_unacknowledged_comes_again_and_an_acknowledged_one_does_not(
    broker: MosquittoBroker, topic_prefix: str
) -> None:
    topic = f"{topic_prefix}/calls"
    async with _client(broker, topic_prefix, persistent=True) as client:
        acknowledge_manually(client)
        await client.subscribe(topic, qos=1)
        await _publish(broker, topic, b"kept", b"left")
        kept, left = [await asyncio.wait_for(anext(client.messages), WAIT_S) for _ in "ab"]
        acknowledge(client, [kept])
        # A round trip after the PUBACK: the broker has it before the session ends.
        await client.publish(f"{topic_prefix}/sync", b"", qos=1)
    assert (kept.payload, left.payload) == (b"kept", b"left")

    async with _client(broker, topic_prefix, persistent=True) as client:
        acknowledge_manually(client)
        await _publish(broker, topic, b"next")
        again = [await asyncio.wait_for(anext(client.messages), WAIT_S) for _ in "ab"]
        assert [m.payload for m in again] == [b"left", b"next"]
        acknowledge(client, again)


@pytest.mark.asyncio
async def test_publish_now_is_acknowledged_later_and_refused_when_not_connected(
    broker: MosquittoBroker, topic_prefix: str
) -> None:
    topic = f"{topic_prefix}/ack"
    async with (
        _client(broker, f"{topic_prefix}-reader", persistent=False) as reader,
        _client(broker, topic_prefix, persistent=False) as client,
    ):
        await reader.subscribe(topic, qos=1)
        assert is_connected(client)
        info = publish_now(client, topic, b"confirmed", qos=1)
        assert info.rc == paho.MQTT_ERR_SUCCESS
        await until(info.is_published, timeout=WAIT_S, what="the broker acknowledged it")
        received = await asyncio.wait_for(anext(reader.messages), WAIT_S)
        assert received.payload == b"confirmed"
    assert not is_connected(client)
    refused = publish_now(client, topic, b"late", qos=1)
    assert refused.rc == paho.MQTT_ERR_NO_CONN
    assert error_text(refused.rc) == "The client is not currently connected."
