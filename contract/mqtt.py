"""MQTT client settings shared by the edge agent and the hub."""

from __future__ import annotations

import aiomqtt

from contract.config.models import BrokerConfig


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
