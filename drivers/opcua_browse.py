"""Walk an OPC UA server's address space, so an engineer can write the tag map without
another tool: each node's NodeId, browse path, class, and for variables their data type
(with the ``type`` the edge would read it as) and access level.

The walk follows hierarchical references from a start node (default: the Objects
folder) down ``depth`` levels. The server's own standard objects (namespace 0, such as
``Server`` with its diagnostics) are listed but not walked into unless they are the start.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIdNames

from drivers.opcua_values import VALUE_TYPES

OBJECTS_FOLDER = "i=85"
ACCESS = {ua.AccessLevel.CurrentRead: "read", ua.AccessLevel.CurrentWrite: "write"}


async def browse(
    client: Client, *, start: str | None = None, depth: int = 3
) -> AsyncIterator[dict[str, Any]]:
    """One dict per node below ``start`` (default: Objects), breadth first."""
    level: list[tuple[ua.NodeId, str]] = [(ua.NodeId.from_string(start or OBJECTS_FOLDER), "")]
    for _ in range(depth):
        below: list[tuple[ua.NodeId, str]] = []
        for parent, path in level:
            children = await client.get_node(parent).get_children_descriptions()
            variables = [c for c in children if c.NodeClass == ua.NodeClass.Variable]
            details = await _variable_details(client, [c.NodeId for c in variables])
            for child in children:
                child_path = f"{path}/{child.BrowseName.Name}" if path else child.BrowseName.Name
                line: dict[str, Any] = {
                    "node_id": child.NodeId.to_string(),
                    "browse_path": child_path,
                    "node_class": child.NodeClass.name,
                }
                line |= details.get(child.NodeId, {})
                yield line
                if child.NodeId.NamespaceIndex != 0:
                    below.append((child.NodeId, child_path))
        level = below
        if not level:
            return


async def _variable_details(
    client: Client, node_ids: list[ua.NodeId]
) -> dict[ua.NodeId, dict[str, Any]]:
    """Data type, the edge's type for it (none for arrays and structures), and access
    level of each variable, read together."""
    if not node_ids:
        return {}
    nodes = [client.get_node(node_id) for node_id in node_ids]
    types = await client.read_attributes(nodes, AttributeIds.DataType)
    access = await client.read_attributes(nodes, AttributeIds.AccessLevel)
    ranks = await client.read_attributes(nodes, AttributeIds.ValueRank)
    details = {}
    for node_id, data_type, level, rank in zip(node_ids, types, access, ranks, strict=True):
        type_id = data_type.Value.Value if data_type.Value is not None else None
        name = _type_name(type_id)
        scalar = rank.Value is None or rank.Value.Value in (-1, -3, None)  # not an array
        variant = getattr(ua.VariantType, name, None) if name and scalar else None
        bits = level.Value.Value if level.Value is not None else 0
        details[node_id] = {
            "data_type": name,
            "type": VALUE_TYPES.get(variant) if variant is not None else None,
            "access_level": [word for flag, word in ACCESS.items() if int(bits) & flag.mask],
        }
    return details


def _type_name(type_id: object) -> str | None:
    """A standard DataType's name (``Boolean``, ``Double``), or another one's NodeId."""
    if not isinstance(type_id, ua.NodeId):
        return None
    if type_id.NamespaceIndex == 0 and isinstance(type_id.Identifier, int):
        name: str | None = ObjectIdNames.get(type_id.Identifier)
        if name is not None:
            return name
    return type_id.to_string()
