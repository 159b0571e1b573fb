"""Small network helpers for launching local servers."""

from __future__ import annotations

import os
import random
import re
import socket
import time
from pathlib import Path

# Where the kernel takes the local ports of outgoing connections, when it does not say.
_EPHEMERAL = (32768, 60999)
# The lowest port handed out: above the well-known and most registered services' ports.
_LOWEST = 10000
_ATTEMPTS = 100
# Ports this process handed out already: a server stopped for a while (a PLC's outage)
# starts again on its port, which must not have gone to another server meanwhile.
_handed_out: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now, below the kernel's ephemeral range.

    A port the kernel picks itself (bind to 0) comes from the range it also gives to
    outgoing connections: between this check and the server's own bind, any client
    connecting anywhere (a test's HTTP or MQTT client, a database driver) could take it,
    and the server then fails with "address already in use". Ports below that range are
    never given to clients.

    A port is handed out once per process, and test processes running side by side
    (pytest-xdist's workers) each draw from a slice of their own, so no two of them
    can take the port of a server that another one stopped for a while."""
    low, high = port_slice(_LOWEST, ephemeral_ports()[0])
    for _ in range(_ATTEMPTS):
        port = random.randrange(low, high) if high > low else 0
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            found = int(sock.getsockname()[1])
        _handed_out.add(found)
        return found
    raise OSError(f"no free TCP port on {host} in {_ATTEMPTS} attempts")


def port_slice(low: int, high: int) -> tuple[int, int]:
    """This process's share of [low, high): all of it, or one worker's equal slice when
    pytest-xdist runs it as ``gwN`` of ``PYTEST_XDIST_WORKER_COUNT`` workers (the
    processes such a worker starts inherit its slice)."""
    worker = re.fullmatch(r"gw(\d+)", os.environ.get("PYTEST_XDIST_WORKER", ""))
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if worker is None or not count.isdigit() or int(count) < 2 or high <= low:
        return low, high
    index, size = int(worker[1]), (high - low) // int(count)
    if index >= int(count):
        return low, high
    return low + index * size, low + (index + 1) * size


def ephemeral_ports() -> tuple[int, int]:
    """The kernel's range for the local ports of outgoing connections (Linux), or the
    usual one where it cannot be read."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return _EPHEMERAL


def wait_for_port(host: str, port: int, *, timeout: float) -> bool:
    """Poll until something accepts TCP connections at host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False
