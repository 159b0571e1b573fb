"""How a Modbus device that is down is tried again, piece by piece, against real servers:
a host that drops connection attempts (a full accept queue), a connection that closes
under a request, and a unit that goes silent alone on its link or beside another.
The whole outage and the device's return are in tests/drivers/test_modbus_reconnect.py."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import time

import pytest

from bench.reconnect import INTERVAL_S, AcceptAndClose
from contract.netutil import free_port
from drivers import DeviceUnavailable, ModbusTcpConfig, ModbusTcpDriver, Table, open_devices
from drivers.modbus_link import CONNECT_TIMEOUT_S
from drivers.modbus_unit import SILENT_SHARE
from testbed.plc_sim import SimulatedPlc
from tests.helpers.reconnect import GAP_BOUND_S, SLACK_S


def _tcp_driver(port: int) -> ModbusTcpDriver:
    return ModbusTcpDriver(
        ModbusTcpConfig(kind="modbus_tcp", id="plc", host="127.0.0.1", port=port, timeout_s=3)
    )


async def _try_for(driver: ModbusTcpDriver, seconds: float) -> tuple[list[float], list[float]]:
    """Read ``driver`` every poll interval for ``seconds``, all failing: when each
    connection attempt went out, and how long each read that made one took."""
    tries: list[float] = []
    took: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started, connects = time.monotonic(), driver.link.connects
        with pytest.raises(DeviceUnavailable):
            await driver.read(Table.COIL, 0, 1)
        if driver.link.connects != connects:
            tries.append(started)
            took.append(time.monotonic() - started)
        await asyncio.sleep(INTERVAL_S)
    return tries, took


def _fill_accept_queue(port: int) -> list[socket.socket]:
    """Connect to a listener that never accepts until a connection attempt hangs."""
    queued: list[socket.socket] = []
    for _ in range(8):
        try:
            queued.append(socket.create_connection(("127.0.0.1", port), timeout=0.3))
        except TimeoutError:
            return queued
    raise AssertionError("the listener's accept queue never filled up")


@pytest.mark.asyncio
async def test_a_host_that_drops_connection_attempts_is_given_up_on_quickly_and_tried_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A listener whose accept queue is full: Linux drops further SYNs, as a host that
    # is switched off behind a router does. The client's 3 s timeout would hold each try.
    port = free_port()
    with socket.socket() as full:
        full.bind(("127.0.0.1", port))
        full.listen(0)
        queued = _fill_accept_queue(port)
        try:
            async with _tcp_driver(port) as driver:
                tries, took = await _try_for(driver, 4.0)
        finally:
            for sock in queued:
                sock.close()
    assert max(took) < CONNECT_TIMEOUT_S + SLACK_S
    assert min(took) >= CONNECT_TIMEOUT_S * 0.9  # the attempts did hang: it was a black hole
    assert max(b - a for a, b in itertools.pairwise(tries)) < GAP_BOUND_S
    # One line says the link is down; pymodbus's line about each failed try is filtered.
    assert not [r for r in caplog.records if r.name.startswith("pymodbus")]
    assert [r.getMessage() for r in caplog.records if "is down" in r.getMessage()] == [
        f"link 127.0.0.1:{port} is down: cannot connect",
        f"device plc is down: 127.0.0.1:{port}: cannot connect",
    ]


@pytest.mark.asyncio
async def test_a_request_whose_connection_closes_fails_at_once() -> None:
    # pymodbus waits out the timeout of a request whose connection closed under it.
    accepted: list[float] = []
    port = free_port()
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(lambda: AcceptAndClose(accepted), "127.0.0.1", port)
    try:
        async with _tcp_driver(port) as driver:
            tries, took = await _try_for(driver, 3.0)
    finally:
        listener.close()
        await listener.wait_closed()
    assert len(accepted) == len(tries) > 2
    assert max(took) < SLACK_S
    assert max(b - a for a, b in itertools.pairwise(tries)) < GAP_BOUND_S


async def _probes_of_silent_unit(plc: SimulatedPlc, units: tuple[int, ...]) -> int:
    """Requests silent unit 2 gets in 4 s while every unit of ``units`` (one link) is read
    each poll interval."""
    configs = [
        ModbusTcpConfig(
            kind="modbus_tcp", id=f"u{unit}", host=plc.host, port=plc.port, unit=unit,
            timeout_s=0.3,
        )
        for unit in units
    ]  # fmt: skip
    async with open_devices(configs) as drivers:
        await drivers["u2"].read(Table.COIL, 0, 1)
        plc.silent.add(2)
        before = plc.requests[2]
        end = time.monotonic() + 4.0
        while time.monotonic() < end:
            for driver in drivers.values():
                with contextlib.suppress(DeviceUnavailable):
                    await driver.read(Table.COIL, 0, 1)
            await asyncio.sleep(INTERVAL_S)
        plc.silent.discard(2)
        return plc.requests[2] - before


@pytest.mark.asyncio
async def test_a_silent_unit_is_tried_every_second_alone_and_less_often_on_a_shared_link() -> None:
    with SimulatedPlc(units=(1, 2)) as plc:
        alone = await _probes_of_silent_unit(plc, (2,))
        shared = await _probes_of_silent_unit(plc, (1, 2))
    print(f"silent unit tried {alone} times alone, {shared} times beside another in 4 s")
    # Alone, a try (0.3 s) at most 0.8 s after the last one began: at least 5 in 4 s.
    assert alone >= 4.0 / GAP_BOUND_S
    # Beside unit 1, its tries take at most SILENT_SHARE of the link: 0.3 s every 1.2 s.
    assert shared * 0.3 <= 4.0 * SILENT_SHARE + 0.3
    assert shared >= 2
