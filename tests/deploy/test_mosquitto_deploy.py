"""``andon deploy mosquitto`` against a real Mosquitto started with its output: each edge
speaks only for its own line and edge id, strangers are refused, TLS works."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest

from andon.deploy_mosquitto import password_hash
from contract.config.models import BrokerConfig
from contract.mqtt import mqtt_client
from contract.secrets import resolve_secrets
from contract.wire import Topics
from tests.helpers.deploy import LINES, SITE, SecuredBroker, edge_file, hub_file, run_deploy

TOPICS = Topics()
ROOT = f"andon/v1/{SITE}"


@contextlib.asynccontextmanager
async def connected(
    broker: SecuredBroker, user: str | None, *, password: str | None = None
) -> AsyncIterator[aiomqtt.Client]:
    if user is not None and password is None:
        password = broker.password(user)
    async with aiomqtt.Client(
        "127.0.0.1", broker.local_port, username=user, password=password, identifier=None
    ) as client:
        yield client


async def seen_until(client: aiomqtt.Client, last_topic: str) -> list[str]:
    """Topics received up to and including ``last_topic``."""
    topics: list[str] = []
    async with asyncio.timeout(10):
        async for message in client.messages:
            topics.append(message.topic.value)
            if message.topic.value == last_topic:
                return topics
    raise AssertionError("unreachable")


async def publish_in_order(client: aiomqtt.Client, *topics: str) -> None:
    for topic in topics:
        await client.publish(topic, b"{}", qos=1)


@pytest.mark.asyncio
async def test_an_edge_cannot_publish_a_call_for_another_line_or_edge(
    secured_broker: SecuredBroker,
) -> None:
    forbidden = [
        TOPICS.station_event(SITE, "assembly", "line2", "st30", "edge-line1"),
        TOPICS.station_event(SITE, "assembly", "line1", "st10", "edge-line2"),
        TOPICS.event(SITE, "assembly", "line1", "st10"),  # the old layout names no edge
    ]
    own = TOPICS.station_event(SITE, "assembly", "line1", "st10", "edge-line1")
    async with (
        connected(secured_broker, "hub") as hub,
        connected(secured_broker, "edge-line1") as edge,
    ):
        await hub.subscribe(f"{ROOT}/#", qos=1)
        # One client's messages arrive in order: had one passed, it came before the last.
        await publish_in_order(edge, *forbidden, own)
        assert await seen_until(hub, own) == [own]


@pytest.mark.asyncio
async def test_an_edge_cannot_forge_another_edges_status(secured_broker: SecuredBroker) -> None:
    forged = TOPICS.edge_status(SITE, "edge-line2")
    own = TOPICS.edge_status(SITE, "edge-line1")
    async with (
        connected(secured_broker, "hub") as hub,
        connected(secured_broker, "edge-line1") as edge,
    ):
        await hub.subscribe(TOPICS.edge_status_filter(SITE), qos=1)
        await publish_in_order(edge, forged, TOPICS.edge_event(SITE, "edge-line2"), own)
        assert await seen_until(hub, own) == [own]


@pytest.mark.asyncio
async def test_an_edge_reads_only_its_own_confirmations_and_lights(
    secured_broker: SecuredBroker,
) -> None:
    others = [TOPICS.edge_ack(SITE, "edge-line2"), TOPICS.light(SITE, "assembly", "line2", "st30")]
    own = [TOPICS.edge_ack(SITE, "edge-line1"), TOPICS.light(SITE, "assembly", "line1", "st10")]
    async with (
        connected(secured_broker, "hub") as hub,
        connected(secured_broker, "edge-line1") as edge,
    ):
        for topic in [*others, TOPICS.edge_ack(SITE, "+"), f"{ROOT}/#"]:
            await edge.subscribe(topic, qos=1)
        await edge.subscribe(own[0], qos=1)
        await edge.subscribe(TOPICS.light_filter(SITE, "assembly", "line1"), qos=1)
        await publish_in_order(hub, *others, *own)
        received = await seen_until(edge, own[-1])
    assert received == own


@pytest.mark.asyncio
async def test_the_hub_reads_every_line_of_its_site(secured_broker: SecuredBroker) -> None:
    measurement = TOPICS.measurement(SITE, "edge-line2")
    device = TOPICS.edge_event(SITE, "edge-line2")
    async with (
        connected(secured_broker, "hub") as hub,
        connected(secured_broker, "edge-line2") as edge,
    ):
        await hub.subscribe(f"{ROOT}/#", qos=1)
        await publish_in_order(
            edge, "andon/v1/plant9/assembly/line2/st30/event", measurement, device
        )
        assert await seen_until(hub, device) == [measurement, device]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("user", "password"), [(None, None), ("edge-line1", "wrong"), ("nobody", "x")]
)
async def test_clients_without_valid_credentials_are_refused(
    secured_broker: SecuredBroker, user: str | None, password: str | None
) -> None:
    with pytest.raises(aiomqtt.MqttCodeError):
        async with connected(secured_broker, user, password=password):
            pass


@pytest.mark.asyncio
async def test_an_edge_connects_over_tls_with_its_password_file(
    secured_broker: SecuredBroker,
) -> None:
    secret = secured_broker.out / "secrets" / "edge-line1.password"
    config = BrokerConfig(
        host="127.0.0.1",
        port=secured_broker.tls_port,
        username="edge-line1",
        password=f"{{file:{secret}}}",
        ca_file=secured_broker.ca,
    )
    own = TOPICS.station_event(SITE, "assembly", "line1", "st20", "edge-line1")
    async with (
        connected(secured_broker, "hub") as hub,
        mqtt_client(config, identifier="edge-line1", persistent=False) as edge,
    ):
        await hub.subscribe(f"{ROOT}/#", qos=1)
        await edge.publish(own, b"{}", qos=1)
        assert await seen_until(hub, own) == [own]


def test_the_tls_listener_serves_the_certificate_it_was_given(
    secured_broker: SecuredBroker,
) -> None:
    trusting = ssl.create_default_context(cafile=str(secured_broker.ca))
    with (
        socket.create_connection(("127.0.0.1", secured_broker.tls_port), timeout=10) as raw,
        trusting.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        certificate = tls.getpeercert()
    assert certificate is not None
    assert certificate["subject"] == ((("commonName", "127.0.0.1"),),)
    stranger = ssl.create_default_context()  # the system's CAs, which never signed it
    with (
        socket.create_connection(("127.0.0.1", secured_broker.tls_port), timeout=10) as raw,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        stranger.wrap_socket(raw, server_hostname="127.0.0.1")


def test_passwords_are_printed_once_and_kept(secured_broker: SecuredBroker) -> None:
    printed = dict(line.split(" ", 1) for line in secured_broker.printed.splitlines())
    assert set(printed) == {"hub", "edge-line1", "edge-line2"}
    assert all(printed[user] == secured_broker.password(user) for user in printed)
    assert len(set(printed.values())) == 3
    secret = secured_broker.out / "secrets" / "hub.password"
    assert secret.stat().st_mode & 0o077 == 0
    assert resolve_secrets(f"{{file:{secret}}}") == printed["hub"]
    site = secured_broker.site_dir
    again = run_deploy(
        site / "hub.yaml", [site / f"edge-{line}.yaml" for line in LINES], secured_broker.out
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""
    assert secured_broker.password("hub") == printed["hub"]


def test_an_edge_of_another_site_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    hub = hub_file(tmp_path / "hub.yaml")
    stranger = edge_file(tmp_path / "edge.yaml", "line1", site="plant9")
    done = run_deploy(hub, [stranger], tmp_path / "out")
    assert done.returncode == 1
    assert "edge edge-line1 is of site 'plant9', the hub of 'plant1'" in done.stderr
    assert not (tmp_path / "out").exists()


def test_an_edge_its_line_does_not_list_is_refused_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    """Without the list the hub would take any edge's word for the line."""
    hub = hub_file(tmp_path / "hub.yaml", edges=False)
    done = run_deploy(hub, [edge_file(tmp_path / "edge.yaml", "line1")], tmp_path / "out")
    assert done.returncode == 1
    assert (
        "edge edge-line1: line assembly/line1 of the hub's file does not list it under edges"
        in done.stderr
    )
    assert not (tmp_path / "out").exists()


def test_two_edges_with_one_user_name_are_refused(tmp_path: Path) -> None:
    hub = hub_file(tmp_path / "hub.yaml")
    edges = [edge_file(tmp_path / f"{line}.yaml", line, username="edge") for line in LINES]
    done = run_deploy(hub, edges, tmp_path / "out")
    assert done.returncode == 1
    assert "broker user names used twice: edge" in done.stderr


def test_the_password_hash_is_mosquittos_pbkdf2_sha512_format() -> None:
    # Reference: `mosquitto_passwd` 2.0 writes $7$<iterations>$<base64 salt>$<base64 hash>.
    line = password_hash("secret", salt=b"0123456789ab")
    assert line == (
        "$7$101$MDEyMzQ1Njc4OWFi$"
        + __import__("base64")
        .b64encode(__import__("hashlib").pbkdf2_hmac("sha512", b"secret", b"0123456789ab", 101))
        .decode()
    )
