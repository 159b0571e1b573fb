"""Sparkplug B 3.0 topics, and the primary host application's STATE message.

``spBv1.0/<group_id>/<message_type>/<edge_node_id>[/<device_id>]`` for the nodes'
messages, ``spBv1.0/STATE/<host_id>`` (retained, JSON) for a host application's state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

NAMESPACE = "spBv1.0"
# MQTT's wildcards and its level separator; Sparkplug forbids them in its ids.
FORBIDDEN_IN_IDS = frozenset("/+#")
MAX_ID_LENGTH = 256


class MessageType(StrEnum):
    NBIRTH = "NBIRTH"
    NDEATH = "NDEATH"
    DBIRTH = "DBIRTH"
    DDEATH = "DDEATH"
    NDATA = "NDATA"
    DDATA = "DDATA"
    NCMD = "NCMD"
    DCMD = "DCMD"


DEVICE_TYPES = frozenset({MessageType.DBIRTH, MessageType.DDEATH, MessageType.DDATA})
DEVICE_TYPES |= {MessageType.DCMD}


@dataclass(frozen=True)
class Topic:
    group_id: str
    message_type: MessageType
    edge_node_id: str
    device_id: str | None = None

    def __str__(self) -> str:
        base = f"{NAMESPACE}/{self.group_id}/{self.message_type}/{self.edge_node_id}"
        return base if self.device_id is None else f"{base}/{self.device_id}"


def parse_topic(text: str) -> Topic | None:
    """The node message ``text`` names, or None for anything else (STATE included)."""
    parts = text.split("/")
    if len(parts) not in (4, 5) or parts[0] != NAMESPACE:
        return None
    try:
        message_type = MessageType(parts[2])
    except ValueError:
        return None
    if (len(parts) == 5) != (message_type in DEVICE_TYPES):
        return None
    if any(not part or len(part) > MAX_ID_LENGTH for part in parts):
        return None
    device = parts[4] if len(parts) == 5 else None
    return Topic(parts[1], message_type, parts[3], device)


def group_filter(group_id: str) -> str:
    """Every node message of a group."""
    return f"{NAMESPACE}/{group_id}/#"


def state_topic(host_id: str) -> str:
    return f"{NAMESPACE}/STATE/{host_id}"


def state_payload(*, online: bool, timestamp: int) -> bytes:
    """A host application's STATE (3.0): ``{"online": ..., "timestamp": ms}``."""
    return json.dumps({"online": online, "timestamp": timestamp}).encode()


@dataclass(frozen=True)
class HostState:
    online: bool
    timestamp: int


def parse_state(raw: bytes) -> HostState | None:
    """A STATE message's content, or None when it is not the 3.0 JSON form."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict):
        return None
    online, timestamp = body.get("online"), body.get("timestamp")
    if not isinstance(online, bool) or isinstance(timestamp, bool):
        return None
    if not isinstance(timestamp, int) or not 0 <= timestamp < 2**63:
        return None
    return HostState(online, timestamp)


def valid_id(text: str) -> bool:
    """Whether ``text`` may be a group, edge node, device or host id."""
    return 0 < len(text) <= MAX_ID_LENGTH and not (FORBIDDEN_IN_IDS & set(text))
