"""Small network helpers for launching local servers."""

from __future__ import annotations

import random
import socket
import time
from pathlib import Path

# Where the kernel takes the local ports of outgoing connections, when it does not say.
_EPHEMERAL = (32768, 60999)
# The lowest port handed out: above the well-known and most registered services' ports.
_LOWEST = 10000
_ATTEMPTS = 100


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now, below the kernel's ephemeral range.

    A port the kernel picks itself (bind to 0) comes from the range it also gives to
    outgoing connections: between this check and the server's own bind, any client
    connecting anywhere (a test's HTTP or MQTT client, a database driver) could take it,
    and the server then fails with "address already in use". Ports below that range are
    never given to clients."""
    low, _ = ephemeral_ports()
    for _ in range(_ATTEMPTS):
        port = random.randrange(_LOWEST, low) if low > _LOWEST else 0
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise OSError(f"no free TCP port on {host} in {_ATTEMPTS} attempts")


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
