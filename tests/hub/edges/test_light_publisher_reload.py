"""The light publisher keeps the site's stations per configuration (building them at every
change cost the event loop milliseconds at 10,000 stations): a station added by a reload
still gets its light when its calls change, from a real Mosquitto."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiomqtt
import pytest
import yaml

from contract.wire import Topics, utc_now
from hub.calls.news import CallChange
from hub.config.file import load_hub_config
from hub.process.app import create_app
from testbed.broker import MosquittoBroker
from tests.helpers.hub import SITE, hub_settings
from tests.helpers.plant import write_yaml

pytestmark = pytest.mark.asyncio

WAIT_S = 20.0


async def _light(client: aiomqtt.Client, topic: str) -> dict[str, object]:
    async with asyncio.timeout(WAIT_S):
        async for message in client.messages:
            if message.topic.value == topic:
                payload = message.payload
                assert isinstance(payload, bytes)
                light: dict[str, object] = json.loads(payload)
                return light
    raise AssertionError(f"no light on {topic}")


async def test_a_station_added_by_a_reload_gets_its_light_after_the_set_was_kept(
    tmp_path: Path, database_url: str, broker: MosquittoBroker, topic_prefix: str
) -> None:
    settings = hub_settings(database_url, broker_port=broker.port)
    settings["broker"]["topic_prefix"] = topic_prefix
    config_path = write_yaml(tmp_path / "hub.yaml", settings)
    topics = Topics(topic_prefix)
    app = create_app(load_hub_config(config_path), config_path=config_path)
    async with (
        app.router.lifespan_context(app),
        aiomqtt.Client(broker.host, broker.port, identifier="test-light-reader") as reader,
    ):
        await reader.subscribe(topics.light_filter(SITE, "assembly", "line1"), qos=1)
        # The publisher has its stations once it has published st10's light (at connect).
        await _light(reader, topics.light(SITE, "assembly", "line1", "st10"))
        lines = settings["areas"][0]["lines"]
        lines[0]["stations"].append({"id": "st99"})
        config_path.write_text(yaml.safe_dump(settings))
        assert app.state.config.reload(actor="test", now=utc_now()).ok
        app.state.changes.announce(CallChange(1, "assembly", "line1", "st99", "raised"))
        light = await _light(reader, topics.light(SITE, "assembly", "line1", "st99"))
    assert light["state"] == "idle"  # no call of st99 in the database: green
