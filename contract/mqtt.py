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
) -> aiomqtt.Client:
    """A client for ``broker``; ``persistent`` keeps the broker-side session across restarts."""
    return aiomqtt.Client(
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
    )
