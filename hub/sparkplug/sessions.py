"""What the hub, as a Sparkplug host application, makes of each edge node's messages.

Pure bookkeeping (no MQTT, no clock): a node is born by its NBIRTH (seq 0, its bdSeq);
each later message of the node or its devices must carry the next seq (0 to 255,
wrapping). Data before a birth, or a seq that skips, asks the node for a rebirth: the
hub can no longer trust that it has every change. An NDEATH counts only with the bdSeq
of the node's current birth (a late Will of an older connection is ignored).

A Boolean metric mapped to a call raises it on its rising edge. Each message is taken
once per (node, bdSeq, seq): the same message delivered twice raises nothing twice; and
the last value of each such metric is kept, so a rebirth (or a hub restart that asks
for one, with the values kept in the database) of a metric that stayed true raises
nothing again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

SEQ_WRAP = 256

NodeKey = tuple[str, str]
"""(group, edge node)"""
MetricKey = tuple[str, str, str | None, str]
"""(group, edge node, device or None, metric)"""


class Verdict(StrEnum):
    TAKE = "take"  # in order: its values count
    REBIRTH = "rebirth"  # out of order or unborn: ask the node for its births again
    DUPLICATE = "duplicate"  # the same message again


@dataclass
class NodeState:
    bd_seq: int
    last_seq: int
    online: bool = True


class NodeSessions:
    """The births, sequence numbers and deaths of every node the hub hears."""

    def __init__(self) -> None:
        self.nodes: dict[NodeKey, NodeState] = {}

    def birth(self, node: NodeKey, *, bd_seq: int, seq: int) -> Verdict:
        """An NBIRTH: the node's new session (a birth that is not seq 0 is not trusted)."""
        if seq != 0:
            self.nodes.pop(node, None)
            return Verdict.REBIRTH
        self.nodes[node] = NodeState(bd_seq=bd_seq, last_seq=0)
        return Verdict.TAKE

    def message(self, node: NodeKey, *, seq: int | None) -> Verdict:
        """A DBIRTH, NDATA, DDATA or DDEATH of ``node``."""
        current = self.nodes.get(node)
        if current is None or not current.online or seq is None:
            return Verdict.REBIRTH
        if seq == current.last_seq:
            return Verdict.DUPLICATE
        if seq != (current.last_seq + 1) % SEQ_WRAP:
            current.online = False  # not trusted until it is born again
            return Verdict.REBIRTH
        current.last_seq = seq
        return Verdict.TAKE

    def death(self, node: NodeKey, *, bd_seq: int) -> bool:
        """An NDEATH; True when it ends the node's current session (it is offline)."""
        current = self.nodes.get(node)
        if current is None or current.bd_seq != bd_seq:
            return False
        del self.nodes[node]
        return True

    def stamp(self, node: NodeKey) -> tuple[int, int] | None:
        """(bdSeq, seq) of the node's last message taken."""
        current = self.nodes.get(node)
        return None if current is None else (current.bd_seq, current.last_seq)


class CallEdges:
    """The last value of each metric mapped to a call; ``rising`` says when to raise."""

    def __init__(self, last: dict[MetricKey, bool] | None = None) -> None:
        self.last: dict[MetricKey, bool] = dict(last or {})
        self.changed: dict[MetricKey, bool] = {}  # since the last ``take_changed``
        self._taken: dict[MetricKey, tuple[int, int]] = {}

    def rising(self, key: MetricKey, value: bool, *, stamp: tuple[int, int]) -> bool:
        """Whether ``value`` of ``key``, in the message ``stamp`` (bdSeq, seq), is a
        rising edge. A message taken already for this metric changes nothing."""
        if self._taken.get(key) == stamp:
            return False
        self._taken[key] = stamp
        before = self.last.get(key, False)
        self.last[key] = value
        if value != before:
            self.changed[key] = value
        return value and not before

    def take_changed(self) -> dict[MetricKey, bool]:
        """The values that changed since the last call (to keep them)."""
        changed, self.changed = self.changed, {}
        return changed
