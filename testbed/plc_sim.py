"""A simulated PLC: a real pymodbus server in its own thread, on loopback TCP or a serial port.

The demo plant and the tests drive its coils and registers as a line would. It can hold
several unit ids (a gateway, or a bus of devices), count the requests each unit gets,
answer "busy" (exception 6) on demand, and make a unit go silent (no answer at all, as a
device that lost power on a bus) and come back.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Coroutine, Sequence
from typing import Any

from pymodbus.framer import FramerType
from pymodbus.pdu import ExceptionResponse, ModbusPDU
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from contract.netutil import free_port, wait_for_port
from rules.registers import ByteOrder, Decoded, ValueType, encode, encode_string
from testbed.server import LOOPBACK, LocalServer

_EXCEPTION_BUSY = 6
# The function code that writes each table through the server's datastore API.
_WRITE_CODE = {"coil": 15, "discrete_input": 2, "holding_register": 16, "input_register": 4}
_READ_CODE = {"coil": 1, "discrete_input": 2, "holding_register": 3, "input_register": 4}


class SimulatedPlc(LocalServer):
    """Coils, discrete inputs and registers 0..size-1 of each unit, all starting at zero.

    With ``serial_port`` it is a Modbus RTU server on that device (one end of a pty
    pair, say); otherwise a Modbus TCP server on 127.0.0.1."""

    def __init__(
        self,
        *,
        port: int | None = None,
        unit: int = 1,
        units: Sequence[int] | None = None,
        size: int = 256,
        serial_port: str | None = None,
    ) -> None:
        self.host = LOOPBACK
        self.serial_port = serial_port
        self.port = 0 if serial_port else (port or free_port())
        self.units = tuple(units or (unit,))
        self.unit = self.units[0]
        self.requests: Counter[int] = Counter()
        self.silent: set[int] = set()
        self._busy: Counter[int] = Counter()
        self._mute_reply = False
        self._size = size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def address(self) -> str:
        return self.serial_port or f"{self.host}:{self.port}"

    def _launch(self) -> None:
        self._ready.clear()
        self._thread = threading.Thread(target=self._serve, name="simulated-plc", daemon=True)
        self._thread.start()

    def _wait_until_ready(self) -> None:
        self._ready.wait(timeout=10)
        if self._server is None:
            raise RuntimeError("simulated PLC did not start")
        if self.serial_port is None and not wait_for_port(self.host, self.port, timeout=10):
            raise RuntimeError(f"simulated PLC did not start on port {self.port}")

    def stop(self) -> None:
        if self._loop is None or self._server is None or self._thread is None:
            return
        shutdown = self._server.shutdown()  # type: ignore[no-untyped-call]  # pymodbus: untyped
        asyncio.run_coroutine_threadsafe(shutdown, self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop = self._server = self._thread = None

    # -- what a line does to it ----------------------------------------------------------

    def set_coil(self, address: int, value: bool, *, unit: int | None = None) -> None:
        self.set_bits("coil", address, [value], unit=unit)

    def coil(self, address: int, *, unit: int | None = None) -> bool:
        return bool(self._get("coil", address, 1, unit)[0])

    def set_register(self, address: int, value: int, *, unit: int | None = None) -> None:
        self.set_registers("holding_register", address, [value], unit=unit)

    def register(self, address: int, *, unit: int | None = None) -> int:
        return int(self._get("holding_register", address, 1, unit)[0])

    def set_bits(
        self, table: str, address: int, values: list[bool], *, unit: int | None = None
    ) -> None:
        """Set coils or discrete inputs."""
        self._set(table, address, values, unit)

    def set_registers(
        self, table: str, address: int, values: list[int], *, unit: int | None = None
    ) -> None:
        """Set holding or input registers."""
        self._set(table, address, values, unit)

    def set_value(
        self,
        table: str,
        address: int,
        value: Decoded,
        value_type: ValueType,
        order: ByteOrder = ByteOrder.ABCD,
        *,
        length: int = 0,
        unit: int | None = None,
    ) -> None:
        """Store a typed value as a register map would hold it."""
        if value_type is ValueType.STRING:
            words = encode_string(str(value), length)
        else:
            words = encode(value, value_type, order)
        self.set_registers(table, address, words, unit=unit)

    def answer_busy(self, unit: int, times: int) -> None:
        """Answer the next ``times`` requests to ``unit`` with exception 6 (busy)."""
        self._busy[unit] += times

    # -- the server ------------------------------------------------------------------------

    def _set(self, table: str, address: int, values: list[Any], unit: int | None) -> None:
        server = self._server_or_fail()
        self._call(server.async_setValues(unit or self.unit, _WRITE_CODE[table], address, values))

    def _get(self, table: str, address: int, count: int, unit: int | None) -> list[Any]:
        server = self._server_or_fail()
        values = self._call(
            server.async_getValues(unit or self.unit, _READ_CODE[table], address, count)
        )
        return list(values)

    def _trace_pdu(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        if not sending:
            self.requests[pdu.dev_id] += 1
            return pdu
        self._mute_reply = pdu.dev_id in self.silent
        if self._busy[pdu.dev_id] > 0 and not pdu.function_code & 0x80:
            self._busy[pdu.dev_id] -= 1
            busy = ExceptionResponse(pdu.function_code, _EXCEPTION_BUSY, device_id=pdu.dev_id)
            busy.transaction_id = pdu.transaction_id
            return busy
        return pdu

    def _trace_packet(self, sending: bool, packet: bytes) -> bytes:
        if sending and self._mute_reply:
            self._mute_reply = False
            return b""
        return packet

    def _server_or_fail(self) -> ModbusTcpServer | ModbusSerialServer:
        if self._server is None:
            raise RuntimeError("the simulated PLC is not running")
        return self._server

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=5)

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._server = loop.run_until_complete(self._start_server())
        finally:
            self._ready.set()
        loop.run_forever()
        loop.close()

    async def _start_server(self) -> ModbusTcpServer | ModbusSerialServer:
        def bits() -> list[SimData]:
            return [SimData(0, count=self._size, values=False, datatype=DataType.BITS)]

        def registers() -> list[SimData]:
            return [SimData(0, count=self._size, values=0, datatype=DataType.REGISTERS)]

        devices = [
            SimDevice(unit, simdata=(bits(), bits(), registers(), registers()))
            for unit in self.units
        ]
        server: ModbusTcpServer | ModbusSerialServer
        if self.serial_port is not None:
            server = ModbusSerialServer(
                devices,
                framer=FramerType.RTU,
                port=self.serial_port,
                baudrate=19200,
                trace_pdu=self._trace_pdu,
                trace_packet=self._trace_packet,
            )
        else:
            server = ModbusTcpServer(
                devices,
                address=(self.host, self.port),
                trace_pdu=self._trace_pdu,
                trace_packet=self._trace_packet,
            )
        await server.serve_forever(background=True)
        return server
