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


def test_the_simulated_opc_ua_plc_serves_its_bits_and_words_and_stops() -> None:
    import asyncio

    from asyncua import ua
    from asyncua.client.client import Client

    from testbed.opcua_plc import SimulatedOpcUaPlc

    plc = SimulatedOpcUaPlc(bits=8, words=4, variables={"Mode": ("auto", ua.VariantType.String)})
    plc.stop()  # before any start: nothing to stop

    async def client_side() -> tuple[bool, int]:
        client = Client(plc.endpoint, timeout=2)
        client.session_timeout = 30_000
        async with client:
            await client.get_node(plc.bit_node(6)).write_value(True, ua.VariantType.Boolean)
            bit = await client.get_node(plc.bit_node(3)).read_value()
            word = await client.get_node(plc.word_node(2)).read_value()
            return bool(bit), int(word)

    with plc:
        assert plc.address.startswith(f"opc.tcp://{LOOPBACK}:")
        plc.set_coil(3, True)
        plc.set_registers("holding_register", 1, [7, 65535])
        assert asyncio.run(client_side()) == (True, 65535)
        assert plc.coil(6)  # written by the client, as an edge writes a light
        assert (plc.register(1), plc.bit_of(plc.bit_node(5))) == (7, 5)
        with pytest.raises(ValueError, match="not a bit"):
            plc.bit_of(plc.word_node(1))
        plc.set("Mode", "manual")
        with pytest.raises(ValueError, match="not a variable"):
            plc.set("Bit.3", False)
    assert not _accepts(f"{plc.host}:{plc.port}")
    plc.stop()  # a second stop is harmless
    with plc:  # back on the same port, with the values it had
        assert (plc.coil(3), plc.coil(6), plc.register(2), plc.get("Mode")) == (
            True, True, 65535, "manual",
        )  # fmt: skip
