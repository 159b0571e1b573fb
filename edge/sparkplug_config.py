"""The edge file's optional ``sparkplug:`` section: the edge as a Sparkplug B edge node."""

from __future__ import annotations

from contract.config.models import Strict
from contract.wire import Name


class SparkplugConfig(Strict):
    """Publish the edge's values as a Sparkplug B 3.0 edge node (docs/wire-contract.md).

    ``edge_node_id`` defaults to the edge id; with ``primary_host_id`` the births wait for
    that host application's retained STATE to say it is online."""

    group_id: Name
    edge_node_id: Name | None = None
    primary_host_id: Name | None = None
