"""Who may read and write which topic on the plant's broker: one table, one ACL file.

Every grant is one row of ``GRANTS``: the party (an edge or the hub), read or write, and
how ``contract.wire.Topics`` builds the topic for that party's scope. An edge writes the
topics that carry its own edge id (its line's station events among them: the broker is
what proves to the hub which edge sent an event) and reads the hub's status, its own
confirmations and status, and its line's lights; the hub reads what the edges write and
writes its status, the confirmations and the lights. Nothing else is granted to anyone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from contract.sparkplug.topics import MessageType, Topic, group_filter, state_topic
from contract.wire import Topics

ANY = "+"


class Party(StrEnum):
    EDGE = "edge"
    HUB = "hub"


@dataclass(frozen=True)
class Scope:
    """The topic segments a client owns; ``+`` where it may use any value."""

    site: str
    area: str = ANY
    line: str = ANY
    edge: str = ANY


@dataclass(frozen=True)
class Grant:
    name: str
    party: Party
    access: Literal["read", "write"]
    build: Callable[[Topics, Scope], str]


def _station_events(t: Topics, s: Scope) -> str:
    return t.station_event(s.site, s.area, s.line, ANY, s.edge)


def _lights(t: Topics, s: Scope) -> str:
    return t.light(s.site, s.area, s.line, ANY)


EDGE, HUB = Party.EDGE, Party.HUB
GRANTS: tuple[Grant, ...] = (
    Grant("its line's station events", EDGE, "write", _station_events),
    Grant("its measurements", EDGE, "write", lambda t, s: t.measurement(s.site, s.edge)),
    Grant("its device events", EDGE, "write", lambda t, s: t.edge_event(s.site, s.edge)),
    Grant("its status", EDGE, "write", lambda t, s: t.edge_status(s.site, s.edge)),
    # An edge answers an offline someone left on its status topic: it reads it too.
    Grant("its status", EDGE, "read", lambda t, s: t.edge_status(s.site, s.edge)),
    Grant("its confirmations", EDGE, "read", lambda t, s: t.edge_ack(s.site, s.edge)),
    Grant("the hub's status", EDGE, "read", lambda t, s: t.hub_status(s.site)),
    Grant("its line's lights", EDGE, "read", _lights),
    Grant("station events", HUB, "read", _station_events),
    # Edges before the edge id was in the topic; no edge may write there (see docs).
    Grant("station events, old layout", HUB, "read", lambda t, s: t.event_filter(s.site)),
    Grant("edge statuses", HUB, "read", lambda t, s: t.edge_status(s.site, ANY)),
    Grant("edge device events", HUB, "read", lambda t, s: t.edge_event(s.site, ANY)),
    Grant("edge measurements", HUB, "read", lambda t, s: t.measurement(s.site, ANY)),
    Grant("its status", HUB, "write", lambda t, s: t.hub_status(s.site)),
    Grant("confirmations", HUB, "write", lambda t, s: t.edge_ack(s.site, ANY)),
    Grant("station lights", HUB, "write", _lights),
)


@dataclass(frozen=True)
class EdgeAccount:
    """The broker user of one edge agent and the part of the plant it speaks for."""

    username: str
    edge_id: str
    site: str
    area: str
    line: str
    # The edge as a Sparkplug edge node: its group, node id and primary host (if any).
    sparkplug: tuple[str, str, str | None] | None = None


# What an edge node writes (its births, data and death) and reads (its commands).
SPARKPLUG_GRANTS: tuple[tuple[Literal["read", "write"], MessageType, str | None], ...] = (
    ("write", MessageType.NBIRTH, None),
    ("write", MessageType.NDEATH, None),
    ("write", MessageType.DBIRTH, ANY),
    ("write", MessageType.DDATA, ANY),
    ("read", MessageType.NCMD, None),
)


def sparkplug_rules(edge: EdgeAccount) -> list[str]:
    """ACL lines of an edge's Sparkplug node: its own node id's topics, and the STATE of
    its primary host."""
    if edge.sparkplug is None:
        return []
    group, node, host = edge.sparkplug
    lines = [
        f"topic {access} {Topic(group, message_type, node, device)}"
        for access, message_type, device in SPARKPLUG_GRANTS
    ]
    if host is not None:
        lines.append(f"topic read {state_topic(host)}")
    return lines


def rules(topics: Topics, party: Party, scope: Scope) -> list[str]:
    """The ACL lines of one party within ``scope``."""
    return [
        f"topic {grant.access} {grant.build(topics, scope)}"
        for grant in GRANTS
        if grant.party is party
    ]


def edge_rules(topics: Topics, edge: EdgeAccount) -> list[str]:
    """ACL lines of one edge: its own line's and its own edge id's topics, nothing else."""
    scope = Scope(site=edge.site, area=edge.area, line=edge.line, edge=edge.edge_id)
    return rules(topics, EDGE, scope) + sparkplug_rules(edge)


def hub_rules(
    topics: Topics, site: str, sparkplug: tuple[str, list[str]] | None = None
) -> list[str]:
    """ACL lines of the hub: what every edge of its site writes, and its own topics; as a
    Sparkplug host (``sparkplug``: its host id and groups), its STATE, the groups' node
    messages and their NCMD."""
    lines = rules(topics, HUB, Scope(site=site))
    if sparkplug is not None:
        host_id, groups = sparkplug
        lines.append(f"topic write {state_topic(host_id)}")
        for group in groups:
            lines.append(f"topic read {group_filter(group)}")
            lines.append(f"topic write {Topic(group, MessageType.NCMD, ANY)}")
    return lines


def acl_text(
    *,
    topics: Topics,
    site: str,
    hub_user: str,
    edges: list[EdgeAccount],
    hub_sparkplug: tuple[str, list[str]] | None = None,
) -> str:
    """The whole ACL file: a block per user, nothing granted to anyone else."""
    blocks = [
        "# Generated by `andon deploy mosquitto`; anything not granted here is denied.",
        "",
        f"# The hub of site {site}",
        f"user {hub_user}",
        *hub_rules(topics, site, hub_sparkplug),
    ]
    for edge in edges:
        blocks += [
            "",
            f"# Edge {edge.edge_id}: line {edge.area}/{edge.line}",
            f"user {edge.username}",
            *edge_rules(topics, edge),
        ]
    return "\n".join(blocks) + "\n"
