"""A simulated PLC: a real pymodbus Modbus TCP server on loopback, in its own thread.

The demo plant and the tests drive its coils and registers as a line would.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Self

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from contract.netutil import free_port, wait_for_port

_FUNCTION_WRITE_COILS = 15
_FUNCTION_READ_COILS = 1
_FUNCTION_WRITE_REGISTERS = 16
_FUNCTION_READ_HOLDING = 3


class SimulatedPlc:
    """Coils, discrete inputs and registers 0..size-1 of one unit, all starting at zero."""

    def __init__(self, *, port: int | None = None, unit: int = 1, size: int = 256) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.unit = unit
        self._size = size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ModbusTcpServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def start(self) -> None:
        self._ready.clear()
        self._thread = threading.Thread(target=self._serve, name="simulated-plc", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=10)
        if not wait_for_port(self.host, self.port, timeout=10):
            raise RuntimeError(f"simulated PLC did not start on port {self.port}")

    def stop(self) -> None:
        if self._loop is None or self._server is None or self._thread is None:
            return
        shutdown = self._server.shutdown()  # type: ignore[no-untyped-call]  # pymodbus: untyped
        asyncio.run_coroutine_threadsafe(shutdown, self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop = self._server = self._thread = None

    def set_coil(self, address: int, value: bool) -> None:
        self._call(
            self._server_or_fail().async_setValues(
                self.unit, _FUNCTION_WRITE_COILS, address, [value]
            )
        )

    def coil(self, address: int) -> bool:
        values = self._call(
            self._server_or_fail().async_getValues(self.unit, _FUNCTION_READ_COILS, address, 1)
        )
        return bool(values[0])

    def set_register(self, address: int, value: int) -> None:
        self._call(
            self._server_or_fail().async_setValues(
                self.unit, _FUNCTION_WRITE_REGISTERS, address, [value]
            )
        )

    def register(self, address: int) -> int:
        values = self._call(
            self._server_or_fail().async_getValues(self.unit, _FUNCTION_READ_HOLDING, address, 1)
        )
        return int(values[0])

    def _server_or_fail(self) -> ModbusTcpServer:
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

    async def _start_server(self) -> ModbusTcpServer:
        def bits() -> list[SimData]:
            return [SimData(0, count=self._size, values=False, datatype=DataType.BITS)]

        def registers() -> list[SimData]:
            return [SimData(0, count=self._size, values=0, datatype=DataType.REGISTERS)]

        device = SimDevice(self.unit, simdata=(bits(), bits(), registers(), registers()))
        server = ModbusTcpServer(device, address=(self.host, self.port))
        await server.serve_forever(background=True)
        return server

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
