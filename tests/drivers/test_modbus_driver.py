"""The Modbus TCP driver against a real pymodbus server on loopback."""

from __future__ import annotations

import random

import pytest

from contract.backoff import Backoff
from contract.netutil import free_port
from drivers import DeviceMisconfigured, DeviceUnavailable, ModbusTcpConfig, ModbusTcpDriver, Table
from testbed.plc_sim import SimulatedPlc


def _config(port: int) -> ModbusTcpConfig:
    return ModbusTcpConfig(kind="modbus_tcp", id="plc1", host="127.0.0.1", port=port, timeout_s=0.5)


def _no_wait_backoff() -> Backoff:
    return Backoff(initial=0.0001, cap=0.0001, rng=random.Random(0))


@pytest.mark.asyncio
async def test_reads_and_writes_all_four_tables(plc: SimulatedPlc) -> None:
    plc.set_coil(3, True)
    plc.set_register(10, 4242)
    async with ModbusTcpDriver(_config(plc.port)) as driver:
        assert await driver.read(Table.COIL, 0, 5) == [0, 0, 0, 1, 0]
        assert await driver.read(Table.HOLDING_REGISTER, 9, 3) == [0, 4242, 0]
        assert await driver.read(Table.DISCRETE_INPUT, 0, 2) == [0, 0]
        assert await driver.read(Table.INPUT_REGISTER, 0, 2) == [0, 0]
        await driver.write(Table.COIL, 7, 1)
        await driver.write(Table.HOLDING_REGISTER, 11, 7)
    assert plc.coil(7) is True
    assert plc.register(11) == 7


@pytest.mark.asyncio
async def test_an_address_the_device_lacks_is_misconfigured(plc: SimulatedPlc) -> None:
    async with ModbusTcpDriver(_config(plc.port)) as driver:
        with pytest.raises(DeviceMisconfigured, match="refused to read 4 coil at 1000"):
            await driver.read(Table.COIL, 1000, 4)
        with pytest.raises(DeviceMisconfigured, match="read-only"):
            await driver.write(Table.INPUT_REGISTER, 0, 1)


@pytest.mark.asyncio
async def test_no_device_listening_is_unavailable() -> None:
    async with ModbusTcpDriver(_config(free_port())) as driver:
        with pytest.raises(DeviceUnavailable, match="cannot connect"):
            await driver.read(Table.COIL, 0, 1)
        # Until the backoff delay passes, reads fail fast without a new attempt.
        with pytest.raises(DeviceUnavailable, match="waiting to reconnect"):
            await driver.read(Table.COIL, 0, 1)


@pytest.mark.asyncio
async def test_a_device_that_vanishes_and_returns_is_read_again() -> None:
    port = free_port()
    plc = SimulatedPlc(port=port)
    plc.start()
    async with ModbusTcpDriver(_config(port), backoff=_no_wait_backoff()) as driver:
        plc.set_coil(1, True)
        assert await driver.read(Table.COIL, 0, 2) == [0, 1]
        plc.stop()
        with pytest.raises(DeviceUnavailable):
            await driver.read(Table.COIL, 0, 2)
        plc = SimulatedPlc(port=port)
        plc.start()
        try:
            plc.set_coil(0, True)
            assert await driver.read(Table.COIL, 0, 2) == [1, 0]
        finally:
            plc.stop()
