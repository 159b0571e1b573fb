"""A real S7 server for the tests: python-snap7's own, on loopback, on a port of its own.

It serves data blocks 10 and 5, the flag memory (M), the process inputs (I) and outputs
(Q), each a bytearray the test reads and changes in place (the server keeps the very
objects it was given). A test can stop it and start it again on the same port, with
the same memory: the PLC vanishing and returning.
"""

from __future__ import annotations

import contextlib
import socket

from snap7.server import Server
from snap7.type import SrvArea

from contract.netutil import free_port

HOST = "127.0.0.1"


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


class S7Plc:
    """The server and its memory areas."""

    def __init__(self) -> None:
        self.port = free_port(HOST)
        self.db10 = bytearray(300)
        self.db5 = bytearray(16)
        self.flags = bytearray(64)
        self.inputs = bytearray(16)
        self.outputs = bytearray(16)
        self._server: _Server | None = None

    def start(self) -> None:
        server = _Server()
        server.register_area(SrvArea.DB, 10, self.db10)
        server.register_area(SrvArea.DB, 5, self.db5)
        server.register_area(SrvArea.MK, 0, self.flags)
        server.register_area(SrvArea.PE, 0, self.inputs)
        server.register_area(SrvArea.PA, 0, self.outputs)
        server.start_to(HOST, self.port)
        self._server = server

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.drop_clients()
            server.stop()
            server.destroy()

    def device(self, **keys: object) -> dict[str, object]:
        """The edge file's entry for this PLC."""
        return {"kind": "s7", "id": "plc7", "host": HOST, "port": self.port, **keys}
