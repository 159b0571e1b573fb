"""A simulated PLC that serves OPC UA: asyncua's own server in a thread of its own.

It holds ``bits`` Boolean variables (``Bit.0`` ...) and ``words`` UInt16 variables
(``Word.0`` ...), all writable, under string NodeIds in one namespace (``bit_node(i)``,
``word_node(i)``). It answers the calls the benchmarks and the demo make on the Modbus
``SimulatedPlc`` (``set_coil``, ``coil``, ``set_registers``, ``register``), bit i standing
for coil i and word i for holding register i, so one workload drives either PLC; an edge
subscribes to the variables, and its writes (the tower lights) are read back here.

The server runs on an event loop of its own, so whoever drives it (a benchmark's
threads) and the edge under test (a process of its own) never share its loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine, Sequence
from typing import Any

from asyncua import ua
from asyncua.server.server import Server

from contract.netutil import free_port, wait_for_port
from testbed.server import LOOPBACK, LocalServer

NAMESPACE = "urn:andon:simulated-plc"
START_TIMEOUT_S = 60.0  # a few thousand variables on a busy machine


class _NoSecurityWarnings(logging.Filter):
    """Drops asyncua's warnings that a server without security policies cannot check
    certificates or protect passwords: this one serves loopback only, on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not message.startswith(("No signing policy", "No encrypting policy"))


_NO_SECURITY_WARNINGS = _NoSecurityWarnings()


class SimulatedOpcUaPlc(LocalServer):
    """Bits and words 0..n-1, all starting at zero (false)."""

    def __init__(self, *, bits: int = 256, words: int = 256, port: int | None = None) -> None:
        self.host = LOOPBACK
        self.port = port or free_port()
        self.endpoint = f"opc.tcp://{self.host}:{self.port}/andon"
        self.namespace = 2  # the first namespace a server registers; checked at start
        self._bits = bits
        self._words = words
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    @property
    def address(self) -> str:
        return self.endpoint

    def bit_node(self, index: int) -> str:
        """The NodeId string of bit ``index``, as an edge's configuration names it."""
        return f"ns={self.namespace};s=Bit.{index}"

    def word_node(self, index: int) -> str:
        return f"ns={self.namespace};s=Word.{index}"

    def bit_of(self, node_id: str) -> int:
        """The bit that ``node_id`` (an address in an edge's configuration) names."""
        _, found, index = node_id.rpartition(";s=Bit.")
        if not found or not index.isdigit() or int(index) >= self._bits:
            raise ValueError(f"not a bit of this PLC: {node_id!r}")
        return int(index)

    # -- what a line does to it ------------------------------------------------------------

    def set_coil(self, address: int, value: bool) -> None:
        """Set bit ``address`` (the Modbus PLC's coil of that number)."""
        self._write([(self.bit_node(address), ua.Variant(value, ua.VariantType.Boolean))])

    def coil(self, address: int) -> bool:
        return bool(self._read(self.bit_node(address)))

    def set_registers(self, table: str, address: int, values: list[int]) -> None:
        """Set words ``address`` onward (``table`` is the Modbus PLC's; words are one table)."""
        del table
        self._write(
            [
                (self.word_node(address + offset), ua.Variant(value, ua.VariantType.UInt16))
                for offset, value in enumerate(values)
            ]
        )

    def register(self, address: int) -> int:
        return int(self._read(self.word_node(address)))

    # -- the server ------------------------------------------------------------------------

    def _write(self, values: Sequence[tuple[str, ua.Variant]]) -> None:
        """Write the variables in one pass on the server's loop, as a PLC's scan would."""
        server = self._server_or_fail()

        async def write() -> None:
            for node_id, variant in values:
                nodeid = ua.NodeId.from_string(node_id)
                await server.write_attribute_value(nodeid, ua.DataValue(variant))

        self._call(write())

    def _read(self, node_id: str) -> Any:
        # A dictionary lookup in the address space, safe from another thread.
        value = self._server_or_fail().read_attribute_value(ua.NodeId.from_string(node_id))
        return None if value.Value is None else value.Value.Value

    def _server_or_fail(self) -> Server:
        if self._server is None:
            raise RuntimeError("the simulated OPC UA PLC is not running")
        return self._server

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=5)

    def _launch(self) -> None:
        self._ready.clear()
        self._failure = None
        self._thread = threading.Thread(target=self._serve, name="simulated-opcua-plc", daemon=True)
        self._thread.start()

    def _wait_until_ready(self) -> None:
        self._ready.wait(timeout=START_TIMEOUT_S)
        if self._server is None:
            raise RuntimeError(f"simulated OPC UA PLC did not start: {self._failure!r}")
        if not wait_for_port(self.host, self.port, timeout=10):
            raise RuntimeError(f"simulated OPC UA PLC did not start on port {self.port}")

    def stop(self) -> None:
        loop, server, thread = self._loop, self._server, self._thread
        if loop is None or thread is None:
            return
        if server is not None:
            asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._loop = self._server = self._thread = None

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._server = loop.run_until_complete(self._start_server())
        except Exception as exc:  # reported by _wait_until_ready, which stops the loop
            self._failure = exc
        finally:
            self._ready.set()
        loop.run_forever()
        loop.close()

    async def _start_server(self) -> Server:
        logging.getLogger("asyncua.server.server").addFilter(_NO_SECURITY_WARNINGS)
        server = Server()
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("andon simulated PLC")
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        self.namespace = await server.register_namespace(NAMESPACE)
        plc = await server.nodes.objects.add_object(self.namespace, "Plc")
        tables = (("Bit", self._bits, False, ua.VariantType.Boolean),
                  ("Word", self._words, 0, ua.VariantType.UInt16))  # fmt: skip
        for prefix, count, initial, variant_type in tables:
            for index in range(count):
                name = f"{prefix}.{index}"
                nodeid = ua.NodeId(ua.String(name), ua.Int16(self.namespace))
                node = await plc.add_variable(nodeid, name, ua.Variant(initial, variant_type))
                await node.set_writable()
        await server.start()
        return server
