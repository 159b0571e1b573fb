"""A simulated S7 PLC: python-snap7's own server in its threads, on loopback.

The S7 edge benchmark presses its buttons (bits of data block 1) and moves its
measurements (words of data block 2) as ``testbed.plc_sim.SimulatedPlc`` does for a
Modbus one: ``set_coil`` sets bit ``address`` of DB1, ``set_registers`` writes words
into DB2 from word ``address`` on.
"""

from __future__ import annotations

import struct
from types import TracebackType
from typing import Self

from snap7.server import Server
from snap7.type import SrvArea

from contract.netutil import free_port
from testbed.server import LOOPBACK

BUTTON_DB = 1
WORD_DB = 2


class SimulatedS7Plc:
    """Data blocks 1 (``size`` bits) and 2 (``size`` words), all starting at zero."""

    def __init__(self, *, size: int = 1024) -> None:
        self.host = LOOPBACK
        self.port = free_port(LOOPBACK)
        self.bits = bytearray((size + 7) // 8)
        self.words = bytearray(2 * size)
        self._server = Server(log=False)

    def __enter__(self) -> Self:
        self._server.register_area(SrvArea.DB, BUTTON_DB, self.bits)
        self._server.register_area(SrvArea.DB, WORD_DB, self.words)
        self._server.start_to(self.host, self.port)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.stop()

    def set_coil(self, address: int, value: bool) -> None:
        byte, bit = divmod(address, 8)
        if value:
            self.bits[byte] |= 1 << bit
        else:
            self.bits[byte] &= ~(1 << bit) & 0xFF

    def set_registers(self, table: str, address: int, values: list[int]) -> None:
        del table  # one table of words here
        struct.pack_into(f">{len(values)}H", self.words, 2 * address, *values)
