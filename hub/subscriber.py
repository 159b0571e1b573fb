"""The hub's MQTT subscription: a persistent session, so events sent while it is down wait.

The broker keeps the session (fixed client id, clean_session off) and queues QoS 1
messages for it; on reconnect they are delivered and ingested. A message is
acknowledged only after the store has committed it: if the hub dies or the database
fails in between, the broker delivers it again and the event id deduplicates it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import aiomqtt

from contract.backoff import Backoff
from contract.mqtt import mqtt_client
from hub.config import HubConfig
from hub.ingest import Ingest

log = logging.getLogger(__name__)


class Subscriber:
    """Consumes the site's event and edge-status topics until cancelled."""

    def __init__(self, *, config: HubConfig, ingest: Ingest) -> None:
        self.config = config
        self.ingest = ingest
        self.connected = asyncio.Event()

    async def run(self) -> None:
        backoff = Backoff(initial=0.2, cap=10.0)
        was_connected = True
        topics = self.ingest.topics
        while True:
            client = mqtt_client(
                self.config.broker, identifier=self.config.mqtt_client_id, persistent=True
            )
            try:
                async with client:
                    # aiomqtt does not expose paho's manual acknowledgement yet
                    # (empicano/aiomqtt#345); this is the workaround its maintainers track.
                    client._client.manual_ack_set(True)
                    await client.subscribe(topics.event_filter(self.config.site), qos=1)
                    await client.subscribe(topics.edge_status_filter(self.config.site), qos=1)
                    log.info(
                        "subscribed at broker %s:%s",
                        self.config.broker.host,
                        self.config.broker.port,
                    )
                    self.connected.set()
                    was_connected = True
                    backoff.reset()
                    async for message in client.messages:
                        payload = message.payload
                        body = payload if isinstance(payload, bytes) else str(payload).encode()
                        # SQLite may wait on a lock: keep the event loop (the API) free.
                        await asyncio.to_thread(self.ingest.handle, message.topic.value, body)
                        client._client.ack(message.mid, message.qos)
            except sqlite3.Error as exc:
                # Not acknowledged: the broker redelivers after we reconnect.
                self.connected.clear()
                log.error("store failed, message left unacknowledged for redelivery: %s", exc)
                was_connected = False
                await asyncio.sleep(backoff.next_delay())
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                if was_connected:
                    log.warning("broker connection lost: %s; reconnecting", exc)
                was_connected = False
                await asyncio.sleep(backoff.next_delay())
