"""A simulated S7 PLC: python-snap7's own server in its threads, on loopback.

The S7 edge benchmark presses its buttons (bits of data block 1) and moves its
measurements (words of data block 2) as ``testbed.plc_sim.SimulatedPlc`` does for a
Modbus one: ``set_coil`` sets bit ``address`` of DB1, ``set_registers`` writes words
into DB2 from word ``address`` on.

The tests read and change the other areas in place (the server keeps the very objects
it was given): data blocks 10 and 5, the flag memory (M), the process inputs (I) and
outputs (Q). A test can stop the PLC and start it again on the same port, with the same
memory: the PLC vanishing and returning.
"""

from __future__ import annotations

import contextlib
import socket
import struct

from snap7.server import Server
from snap7.type import SrvArea

from contract.netutil import free_port
from testbed.server import LOOPBACK, LocalServer

BUTTON_DB = 1
WORD_DB = 2


class _Server(Server):
    """snap7's server, keeping its clients' sockets: its ``stop()`` stops listening but
    leaves a connected client served (until a request comes or its 5 s timeout), where
    a PLC switched off drops the connection at once."""

    def __init__(self) -> None:
        super().__init__(log=False)
        self.sockets: list[socket.socket] = []

    def _handle_client(self, client_socket: socket.socket, address: tuple[str, int]) -> None:
        self.sockets.append(client_socket)
        super()._handle_client(client_socket, address)

    def drop_clients(self) -> None:
        for client in self.sockets:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)


class SimulatedS7Plc(LocalServer):
    """Data blocks 1 (``size`` bits) and 2 (``size`` words), all starting at zero, and
    the tests' areas (``db10``, ``db5``, ``flags``, ``inputs``, ``outputs``)."""

    def __init__(self, *, size: int = 1024) -> None:
        self.host = LOOPBACK
        self.port = free_port(LOOPBACK)
        self.bits = bytearray((size + 7) // 8)
        self.words = bytearray(2 * size)
        self.db10 = bytearray(300)
        self.db5 = bytearray(16)
        self.flags = bytearray(64)
        self.inputs = bytearray(16)
        self.outputs = bytearray(16)
        self._server: _Server | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _launch(self) -> None:
        server = _Server()
        server.register_area(SrvArea.DB, BUTTON_DB, self.bits)
        server.register_area(SrvArea.DB, WORD_DB, self.words)
        server.register_area(SrvArea.DB, 10, self.db10)
        server.register_area(SrvArea.DB, 5, self.db5)
        server.register_area(SrvArea.MK, 0, self.flags)
        server.register_area(SrvArea.PE, 0, self.inputs)
        server.register_area(SrvArea.PA, 0, self.outputs)
        self._server = server
        server.start_to(self.host, self.port)

    def _wait_until_ready(self) -> None:
        """snap7's server listens before ``start_to`` returns."""
        if self._server is None or not self._server.running:
            raise RuntimeError(f"the S7 server on {self.address} did not start")

    def stop(self) -> None:
        """Stop listening and drop every connected client, as a PLC switched off does."""
        server, self._server = self._server, None
        if server is not None:
            server.drop_clients()
            server.stop()
            server.destroy()

    def device(self, **keys: object) -> dict[str, object]:
        """The edge file's entry for this PLC."""
        return {"kind": "s7", "id": "plc7", "host": self.host, "port": self.port, **keys}

    def set_coil(self, address: int, value: bool) -> None:
        byte, bit = divmod(address, 8)
        if value:
            self.bits[byte] |= 1 << bit
        else:
            self.bits[byte] &= ~(1 << bit) & 0xFF

    def set_registers(self, table: str, address: int, values: list[int]) -> None:
        del table  # one table of words here
        struct.pack_into(f">{len(values)}H", self.words, 2 * address, *values)
