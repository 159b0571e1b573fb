"""``andon edge browse --config FILE --device ID [--node NODEID] [--depth N]``: an OPC UA
server's nodes as JSON lines, for writing the edge's tag map."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import TextIO

from drivers import DeviceError, OpcUaConfig, node_id_problem
from drivers.opcua import OpcUaDriver
from drivers.opcua_browse import browse
from edge.config import load_edge_config


def run_browse(args: argparse.Namespace) -> int:
    """Print the nodes of ``args.device`` (an OPC UA server of the edge file)."""
    config = load_edge_config(args.config)
    devices = {device.id: device for device in config.devices}
    device = devices.get(args.device or "")
    if not isinstance(device, OpcUaConfig):
        servers = [d.id for d in config.devices if isinstance(d, OpcUaConfig)]
        print(
            f"{args.config}: --device names an OPC UA device of the file: "
            f"{', '.join(servers) or 'it has none'}",
            file=sys.stderr,
        )
        return 2
    problem = None if args.node is None else node_id_problem(args.node)
    if problem is not None:
        print(f"--node: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.CRITICAL)  # only the nodes and the failure
    try:
        asyncio.run(_print_nodes(device, args.node, args.depth, sys.stdout))
    except DeviceError as exc:
        print(f"{device.id}: {exc}", file=sys.stderr)
        return 1
    return 0


async def _print_nodes(device: OpcUaConfig, node: str | None, depth: int, out: TextIO) -> None:
    async with OpcUaDriver(device) as driver:
        await driver.connect()
        async for line in browse(driver.client, start=node, depth=depth):
            print(json.dumps(line), file=out)
