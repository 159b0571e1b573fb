"""The MQTT clients, and the one module that knows aiomqtt's and paho's insides.

The edge agent and the hub talk through aiomqtt (``mqtt_client``). Three things they
need are not in aiomqtt's API, so they are done here, on the paho client and the message
queue an aiomqtt client keeps (``Client._client``, ``Client._queue``, both private);
tests/contract/test_mqtt_insides.py fails if a release in the pinned range changes them:

- acknowledging a message only when the hub says so (after its commit), not on receipt
  (empicano/aiomqtt#345 tracks adding it);
- publishing without awaiting the PUBACK: aiomqtt's publish awaits each one, at a cost
  that grows with the number waiting, while an edge's event waits for the hub's
  confirmation instead;
- taking the messages already queued without a task per message (``waiting_messages``).

The benchmarks' fast publishers and listeners use paho's threaded client itself, with
no event loop (``paho_client``); nothing else imports paho.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from contract.config.models import BrokerConfig

PahoClient: TypeAlias = paho.Client
PahoMessage: TypeAlias = paho.MQTTMessage
PublishInfo: TypeAlias = paho.MQTTMessageInfo
ErrorCode: TypeAlias = MQTTErrorCode


def mqtt_client(
    broker: BrokerConfig,
    *,
    identifier: str,
    persistent: bool,
    will: aiomqtt.Will | None = None,
    max_inflight: int | None = None,
) -> aiomqtt.Client:
    """A client for ``broker``; ``persistent`` keeps the broker-side session across restarts.

    ``max_inflight``: QoS 1 publishes the client may have unacknowledged at once (paho's
    default is 20); aiomqtt's warning about waiting publishes starts above it too."""
    client = aiomqtt.Client(
        broker.host,
        broker.port,
        username=broker.username,
        password=broker.resolved_password(),
        identifier=identifier,
        clean_session=not persistent,
        keepalive=broker.keepalive_s,
        will=will,
        timeout=10,
        tls_params=None
        if broker.ca_file is None
        else aiomqtt.TLSParameters(ca_certs=str(broker.ca_file)),
        max_inflight_messages=max_inflight,
    )
    if max_inflight is not None:
        client.pending_calls_threshold = max_inflight
    return client


# -- what aiomqtt does not offer ---------------------------------------------------------


def acknowledge_manually(client: aiomqtt.Client) -> None:
    """From now on a QoS 1 message is acknowledged only by ``acknowledge``: one that is
    not is delivered again in the next session (a persistent one)."""
    client._client.manual_ack_set(True)


def acknowledge(client: aiomqtt.Client, messages: Iterable[aiomqtt.Message]) -> None:
    """Send the PUBACK of each message (after ``acknowledge_manually``)."""
    for message in messages:
        client._client.ack(message.mid, message.qos)


def publish_now(
    client: aiomqtt.Client, topic: str, payload: str | bytes, *, qos: int
) -> PublishInfo:
    """Publish without waiting for the broker: the message is queued on the connection
    and this returns at once. ``rc`` of what it returns is not zero when the message
    was refused (``error_text`` says why); ``is_published()`` turns true on the PUBACK."""
    return client._client.publish(topic, payload, qos=qos)


def is_connected(client: aiomqtt.Client) -> bool:
    """Whether the connection is up; aiomqtt tells only by failing the next call."""
    return client._client.is_connected()


def waiting_messages(client: aiomqtt.Client, limit: int) -> list[aiomqtt.Message]:
    """Up to ``limit`` messages already received, without waiting for more.

    aiomqtt hands out one message per ``anext`` (a task each); its queue is read directly
    for the ones already there, which keeps gathering a batch cheap."""
    queue = client._queue
    return [queue.get_nowait() for _ in range(min(limit, queue.qsize()))]


def error_text(code: int) -> str:
    """paho's words for a result code."""
    return paho.error_string(code)


# -- paho's threaded client, for the benchmarks ------------------------------------------


def paho_client(client_id: str, *, clean_session: bool | None = None) -> PahoClient:
    """A paho client (MQTT 3.1.1, version 2 callbacks) that runs without an event loop:
    ``loop_start()`` gives it a thread, or the caller drives its socket itself."""
    return paho.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean_session
    )
