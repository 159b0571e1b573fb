"""The generated ACL grants each party every topic it uses and nothing more: what the edge
and the hub subscribe to is what their own code asks for; what they publish is built
with the same ``Topics`` calls their code makes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from paho.mqtt.client import topic_matches_sub

from andon.mosquitto_acl import EdgeAccount, edge_rules, hub_rules
from contract.sparkplug.topics import MessageType, Topic, state_topic
from contract.wire import Topics
from edge.config import EdgeConfig, OutboxConfig
from edge.delivery import subscriptions as edge_subscriptions
from edge.sparkplug_config import SparkplugConfig
from edge.sparkplug_node import SparkplugNode
from hub.edges.subscription import subscriptions as hub_subscriptions

TOPICS = Topics("andon")
SITE, AREA = "plant1", "assembly"
STATIONS = {"line1": ["st10", "st20"], "line2": ["st30"]}
EDGES = {line: f"edge-{line}" for line in STATIONS}

Uses = dict[str, set[str]]  # "read" / "write" -> topics and filters


def edge_config(line: str) -> EdgeConfig:
    return EdgeConfig.model_validate(
        {
            "edge_id": EDGES[line], "site": SITE, "area": AREA, "line": line,
            "devices": [{"kind": "modbus_tcp", "id": "plc", "host": "127.0.0.1"}],
        }
    )  # fmt: skip


def edge_uses(line: str) -> Uses:
    config, edge = edge_config(line), EDGES[line]
    writes = {TOPICS.station_event(SITE, AREA, line, s, edge) for s in STATIONS[line]}
    writes |= {
        TOPICS.measurement(SITE, edge),  # edge/recorder.py
        TOPICS.edge_event(SITE, edge),  # edge/recorder.py, device status
        TOPICS.edge_status(SITE, edge),  # edge/delivery.py, and its will
    }
    return {"read": set(edge_subscriptions(TOPICS, config)), "write": writes}


def hub_uses() -> Uses:
    reads = set(hub_subscriptions(TOPICS, SITE))
    reads.add(TOPICS.measurement_filter(SITE))  # hub/measurements/subscription.py
    writes = {TOPICS.hub_status(SITE)}  # hub/edges/subscription.py, and its will
    writes |= {TOPICS.edge_ack(SITE, edge) for edge in EDGES.values()}
    writes |= {TOPICS.light(SITE, AREA, line, s) for line in STATIONS for s in STATIONS[line]}
    return {"read": reads, "write": writes}


def granted(rules: list[str]) -> Uses:
    """The ACL's ``topic read|write PATTERN`` lines, by access."""
    grants: Uses = {"read": set(), "write": set()}
    for rule in rules:
        keyword, access, pattern = rule.split(" ")
        assert keyword == "topic"
        grants[access].add(pattern)
    return grants


def covered(topic: str, patterns: set[str]) -> bool:
    # A filter's "+" is matched by a pattern's "+" as any other word is.
    return any(topic_matches_sub(pattern, topic) for pattern in patterns)


def unused(grants: Uses, uses: Uses) -> list[str]:
    return [
        f"{access} {pattern}"
        for access, patterns in grants.items()
        for pattern in patterns
        if not any(topic_matches_sub(pattern, topic) for topic in uses[access])
    ]


def account(line: str) -> EdgeAccount:
    return EdgeAccount(EDGES[line], EDGES[line], SITE, AREA, line)


def test_each_edge_is_granted_what_it_uses_and_nothing_more() -> None:
    for line in STATIONS:
        uses, grants = edge_uses(line), granted(edge_rules(TOPICS, account(line)))
        for access, topics in uses.items():
            assert all(covered(topic, grants[access]) for topic in topics), (access, topics)
        assert unused(grants, uses) == []


def test_the_hub_is_granted_what_it_uses_and_nothing_more() -> None:
    uses, grants = hub_uses(), granted(hub_rules(TOPICS, SITE))
    for access, topics in uses.items():
        assert all(covered(topic, grants[access]) for topic in topics), (access, topics)
    assert unused(grants, uses) == []


def test_an_edge_may_write_nothing_another_edge_writes_nor_read_what_is_for_it() -> None:
    mine, theirs = granted(edge_rules(TOPICS, account("line1"))), edge_uses("line2")
    assert [t for t in theirs["write"] if covered(t, mine["write"])] == []
    others_acks_and_lights = [TOPICS.edge_ack(SITE, EDGES["line2"])] + [
        TOPICS.light(SITE, AREA, "line2", s) for s in STATIONS["line2"]
    ]
    assert [t for t in others_acks_and_lights if covered(t, mine["read"])] == []
    # Nor the old station topic, which names no edge, nor the hub's own topics.
    assert not covered(TOPICS.event(SITE, AREA, "line1", "st10"), mine["write"])
    assert not covered(TOPICS.hub_status(SITE), mine["write"])
    assert not covered(TOPICS.edge_ack(SITE, EDGES["line1"]), mine["write"])


def test_an_edge_node_is_granted_its_own_sparkplug_topics_and_its_primary_hosts_state() -> None:
    config = edge_config("line1").model_copy(
        update={
            "sparkplug": SparkplugConfig(group_id="north", primary_host_id="scada"),
            "outbox": OutboxConfig(path=Path("/nonexistent/outbox.sqlite3")),
        }
    )
    node = SparkplugNode(config, state_dir=Path("/nonexistent"))
    edge = dataclasses.replace(account("line1"), sparkplug=("north", node.node_id, "scada"))
    grants = granted(edge_rules(TOPICS, edge))
    writes = {node.topic(kind) for kind in (MessageType.NBIRTH, MessageType.NDEATH)}
    writes |= {node.topic(kind, "plc") for kind in (MessageType.DBIRTH, MessageType.DDATA)}
    assert all(covered(topic, grants["write"]) for topic in writes)
    reads = {node.topic(MessageType.NCMD), state_topic("scada")}
    assert all(covered(topic, grants["read"]) for topic in reads)
    other = str(Topic("north", MessageType.NBIRTH, EDGES["line2"]))
    assert not covered(other, grants["write"])
    assert not covered(str(Topic("north", MessageType.NCMD, EDGES["line2"])), grants["read"])


def test_the_hub_as_a_sparkplug_host_is_granted_its_state_its_groups_and_their_commands() -> None:
    grants = granted(hub_rules(TOPICS, SITE, ("andon-hub", ["north"])))
    assert covered(state_topic("andon-hub"), grants["write"])
    assert covered(str(Topic("north", MessageType.NCMD, "any-node")), grants["write"])
    assert covered("spBv1.0/north/#", grants["read"])
    assert not covered(str(Topic("south", MessageType.NCMD, "any-node")), grants["write"])
    assert not covered(str(Topic("north", MessageType.NBIRTH, "any-node")), grants["write"])
