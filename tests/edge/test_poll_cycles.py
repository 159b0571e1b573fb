"""A poll loop reads every tag every cycle, even on an event loop whose timers wake it a
little before the cycle is due: libuv (under uvloop) reads its clock once per loop
iteration, so a timer set after some work in an iteration fires that much early."""

from __future__ import annotations

import asyncio
import time

from drivers import ModbusUnitDriver, open_devices
from edge.config import EdgeConfig
from edge.polling import ButtonTag, LinkPoller
from edge.session import build_pollers
from testbed.plc_sim import SimulatedPlc

CYCLES = 20
WORK_S = 0.003  # what a cycle's readings cost the loop after the last read


class StaleClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock is read once per iteration, as libuv's is."""

    def __init__(self) -> None:
        super().__init__()
        self._now = super().time()

    def _run_once(self) -> None:
        self._now = super().time()
        super()._run_once()  # type: ignore[misc]

    def time(self) -> float:
        return self._now


class Counting:
    """A sink that stops its poller after ``CYCLES`` cycles."""

    def button(self, tag: ButtonTag, pressed: bool, now: float) -> None:
        del tag, pressed, now

    def device_checked(self, driver: ModbusUnitDriver) -> None:
        del driver

    def cycle_done(self, poller: LinkPoller) -> None:
        time.sleep(WORK_S)  # the poller then sets its timer on the iteration's clock
        if poller.cycles >= CYCLES:
            poller.stop.set()


async def _poll(plc: SimulatedPlc) -> tuple[int, int]:
    config = EdgeConfig.model_validate(
        {
            "edge_id": "e1", "site": "s", "area": "a", "line": "l",
            "broker": {"host": "127.0.0.1", "port": 1},
            "poll_interval_s": 0.05,
            "devices": [{"kind": "modbus_tcp", "id": "plc1", "host": plc.host, "port": plc.port}],
            "buttons": [{"device": "plc1", "address": 0, "station": "st1", "call_type": "help"}],
        }
    )  # fmt: skip
    async with open_devices(config.devices) as drivers:
        (poller,) = build_pollers(config, drivers, Counting())
        before = plc.requests[1]
        await asyncio.wait_for(poller.run(), timeout=30)
        return poller.cycles, plc.requests[1] - before


def test_every_cycle_reads_when_the_loop_wakes_a_little_early(plc: SimulatedPlc) -> None:
    with asyncio.Runner(loop_factory=StaleClockLoop) as runner:
        cycles, requests = runner.run(_poll(plc))
    assert cycles == CYCLES
    # One coil read a cycle: a cycle woken before its reads were due used to read nothing.
    assert requests == CYCLES
