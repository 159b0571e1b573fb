"""The test bed's servers start and stop one way: ``start()`` returns once the server
accepts at ``address``, ``stop()`` takes it away and may be repeated, ``with`` does both.

The simulated PLC is not probed with a bare connection here: stopped right after such a
connection closed, it leaves pymodbus's end of it unclosed (a ResourceWarning, an error in
this suite); the Modbus tests start and stop it around the driver instead."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from testbed.broker import MosquittoBroker
from testbed.ptys import PtyPair
from testbed.server import LOOPBACK, LocalServer
from testbed.victoria_metrics import VictoriaMetrics

SERVERS: dict[str, Callable[[Path], LocalServer]] = {
    "mosquitto": lambda folder: MosquittoBroker(folder / "mosquitto"),
    "victoria-metrics": lambda folder: VictoriaMetrics(folder / "victoria-metrics"),
    "pty pair": lambda folder: PtyPair(folder / "ptys"),
}


def _accepts(address: str) -> bool:
    """A TCP connection to ``host:port`` (or ``http://host:port``), or a pty that exists."""
    if address.startswith("/"):
        return Path(address).exists()
    host, port = address.removeprefix("http://").rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("kind", SERVERS)
def test_a_server_accepts_once_started_and_not_after_it_stopped(kind: str, tmp_path: Path) -> None:
    server = SERVERS[kind](tmp_path)
    server.stop()  # before any start: nothing to stop
    with server:
        assert _accepts(server.address)
        if not server.address.startswith("/"):
            assert server.address.removeprefix("http://").startswith(f"{LOOPBACK}:")
    assert not _accepts(server.address)
    server.stop()  # a second stop is harmless

    server.start()  # and it starts again, at the same address
    try:
        assert _accepts(server.address)
    finally:
        server.stop()
