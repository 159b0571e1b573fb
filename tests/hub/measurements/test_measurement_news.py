"""The measurement path through its own process: messages from a real Mosquitto are stored
by the hub's measurement process, announced to listeners in the main process after their
commit, and counted in the hub's metrics (rejections too)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
import pytest_asyncio
from fastapi import FastAPI
from paho.mqtt.enums import CallbackAPIVersion

from contract.wire import Topics
from hub.config.file import load_hub_config
from hub.measurements.news import MeasurementListener
from hub.process.app import create_app
from testbed.broker import MosquittoBroker
from tests.helpers.hub import SITE, hub_settings
from tests.helpers.measurements import message, point
from tests.helpers.plant import write_yaml

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def app(
    tmp_path: Path, database_url: str, broker: MosquittoBroker, topic_prefix: str
) -> AsyncIterator[FastAPI]:
    settings = hub_settings(database_url, broker_port=broker.port)
    settings["broker"]["topic_prefix"] = topic_prefix
    config_path = write_yaml(tmp_path / "hub.yaml", settings)
    hub = create_app(load_hub_config(config_path), config_path=config_path)
    async with hub.router.lifespan_context(hub):
        yield hub


def _publish(broker: MosquittoBroker, *messages: tuple[str, bytes]) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="test-edge")
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        for topic, payload in messages:
            client.publish(topic, payload, qos=1).wait_for_publish(timeout=5)
    finally:
        client.loop_stop()
        client.disconnect()


def _prefixed(prefix: str, item: tuple[str, bytes]) -> tuple[str, bytes]:
    topic, payload = item
    return topic.replace("andon/", f"{prefix}/", 1), payload


async def _first(listener: MeasurementListener, send: object) -> int:
    """Publish message 1 until the measurement process (just started) has subscribed."""
    assert callable(send)
    for _ in range(100):
        await asyncio.to_thread(send)
        try:
            return (await asyncio.wait_for(listener.get(), timeout=0.3)).seq
        except TimeoutError:
            continue
    raise AssertionError("no measurement message was announced")


async def test_listeners_hear_stored_messages_and_a_slow_one_loses_the_oldest(
    app: FastAPI, broker: MosquittoBroker, topic_prefix: str
) -> None:
    def send(*seqs: int) -> None:
        _publish(
            broker, *(_prefixed(topic_prefix, message(s, points=[point(s, 10.0)])) for s in seqs)
        )

    with app.state.measurements.listen(size=2) as listener:
        assert await _first(listener, lambda: send(1)) == 1
        while listener.qsize():  # message 1 again, if it was sent more than once
            listener.get_nowait()
        await asyncio.to_thread(send, 2, 3, 4, 5)
        for _ in range(200):
            if listener.dropped >= 2:
                break
            await asyncio.sleep(0.05)
        # A listener that does not keep up loses the oldest, never the hub's memory.
        assert listener.qsize() == 2
        assert [listener.get_nowait().seq for _ in range(2)] == [4, 5]


async def test_the_measurement_process_counts_in_the_hubs_metrics(
    app: FastAPI, broker: MosquittoBroker, topic_prefix: str
) -> None:
    topic = Topics(topic_prefix).measurement(SITE, "edge-1")
    with app.state.measurements.listen() as listener:
        await _first(
            listener,
            lambda: _publish(broker, _prefixed(topic_prefix, message(1, points=[point(1, 10.0)]))),
        )
        await asyncio.to_thread(_publish, broker, (topic, b"{not json"))
        for _ in range(100):
            text = app.state.metrics.render().decode()
            if 'andon_hub_messages_rejected_total{reason="malformed"} 1.0' in text:
                break
            await asyncio.sleep(0.1)
    assert 'andon_hub_messages_rejected_total{reason="malformed"} 1.0' in text
    assert 'andon_hub_measurement_messages_total{outcome="rejected"} 1.0' in text
    assert "andon_hub_spc_points_stored_total" in text
