"""How soon a PLC back from an outage is read again: ``andon bench reconnect``.

A Modbus TCP PLC (a pymodbus server, stopped and started again on its port) and a Modbus
RTU one (a socat pty pair and its server gone, then back at the same path) are polled
side by side as the edge polls them, and taken away for each outage's length. The tries
to reconnect are read off each link's ``connects`` counter as they go out; the outcome
of an outage is the tries while the device was away, how many it took once it was
back, and when the first successful poll and the first press were seen.

The TCP outage is half refused connections (nothing listens: a PLC rebooting) and half
a listener that accepts and closes each connection (a PLC whose network is up before its
Modbus server), which counts the attempts from the outside.

tests/drivers/test_modbus_reconnect.py holds these outcomes to the schedule's bounds; the
benchmark prints their figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from contract.backoff import RETRY_WITHIN_S
from contract.netutil import free_port
from drivers import ModbusLink, ModbusUnitDriver, open_devices
from edge.config import EdgeConfig
from edge.polling import ButtonTag, LinkPoller
from edge.session import build_pollers
from testbed.ptys import PtyPair

INTERVAL_S = 0.05
BUTTON = 0
# The longest a device may take to answer or a press to be seen before the run is
# called broken (thirty times the schedule's bound: no figure, a failure).
UNTIL_S = 30.0


class Plc(Protocol):
    """A simulated PLC that is started and stopped like a device switched on and off."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def set_coil(self, address: int, value: bool) -> None: ...


@dataclass(frozen=True)
class Plcs:
    """How to make the two PLCs: a TCP one on a port, an RTU one on a serial device."""

    tcp: Callable[[int], Plc]
    rtu: Callable[[str], Plc]


@dataclass
class Recording:
    """A poll sink that notes when each device answered again and when a press was seen."""

    answered: dict[str, list[float]] = field(default_factory=dict)
    pressed: dict[str, list[float]] = field(default_factory=dict)
    cycle: asyncio.Event = field(default_factory=asyncio.Event)
    _up: dict[str, bool] = field(default_factory=dict)

    def button(self, tag: ButtonTag, pressed: bool, now: float) -> None:
        if pressed:
            self.pressed.setdefault(tag.config.station, []).append(now)

    def device_checked(self, driver: ModbusUnitDriver) -> None:
        device = driver.config.id
        if driver.up and not self._up.get(device, False):
            self.answered.setdefault(device, []).append(time.monotonic())
        self._up[device] = driver.up

    def cycle_done(self, poller: LinkPoller) -> None:
        del poller
        self.cycle.set()

    async def until(self, ready: Callable[[], object]) -> None:
        """Wait, a poll cycle at a time, until ``ready()`` is true."""
        async with asyncio.timeout(UNTIL_S):
            while not ready():
                self.cycle.clear()
                await self.cycle.wait()


@dataclass
class Tries:
    """When a link's connection attempts went out, read off its ``connects`` counter."""

    link: ModbusLink
    times: list[float] = field(default_factory=list)

    async def watch(self) -> None:
        seen = self.link.connects
        while True:
            await asyncio.sleep(0.01)
            if self.link.connects != seen:
                self.times += [time.monotonic()] * (self.link.connects - seen)
                seen = self.link.connects

    def within(self, start: float, end: float) -> list[float]:
        return [t for t in self.times if start <= t <= end]


@dataclass(frozen=True)
class SeenOutside:
    """The TCP outage's second half: connections a listener accepted and closed, and the
    tries the link counted over the same span."""

    accepted: list[float]
    counted: int


@dataclass(frozen=True)
class Outcome:
    """What one device's outage looked like."""

    tries: list[float]  # connection attempts while it was away
    back: float  # when it answered again
    tries_after_back: int  # attempts between its return and its first successful poll
    answered: float  # first successful poll after its return
    pressed: float  # first poll that saw the button pressed at its return
    outside: SeenOutside | None = None  # the TCP device's attempts seen by a listener

    @property
    def gaps(self) -> list[float]:
        return [b - a for a, b in itertools.pairwise(self.tries)]

    def gap_quantile(self, q: float) -> float:
        """The gap that a fraction ``q`` of the gaps do not exceed (nearest rank)."""
        gaps = sorted(self.gaps)
        return gaps[min(int(q * len(gaps)), len(gaps) - 1)]

    def figures(self) -> dict[str, Any]:
        """The benchmark's keys for this outage (docs/benchmarks.md); the gaps' are null
        when fewer than two tries went out (an outage shorter than the schedule's)."""
        gaps = len(self.tries) > 1
        return {
            "tries": len(self.tries),
            "gap_p50_s": round(self.gap_quantile(0.5), 3) if gaps else None,
            "gap_p95_s": round(self.gap_quantile(0.95), 3) if gaps else None,
            "gap_max_s": round(max(self.gaps), 3) if gaps else None,
            "last_try_before_back_s": round(self.back - self.tries[-1], 3) if self.tries else None,
            "read_after_back_s": round(self.answered - self.back, 3),
            "press_seen_after_back_s": round(self.pressed - self.back, 3),
            "tries_after_back": self.tries_after_back,
        }


class AcceptAndClose(asyncio.Protocol):
    """A TCP listener's connection that is closed at once; the listener counts them."""

    def __init__(self, accepted: list[float]) -> None:
        self.accepted = accepted

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.accepted.append(time.monotonic())
        transport.close()


def edge_config(tcp_port: int, rtu_port: str) -> EdgeConfig:
    """The two devices, polled every ``INTERVAL_S``, a button each."""
    return EdgeConfig.model_validate(
        {
            "edge_id": "e1", "site": "s", "area": "a", "line": "l",
            "broker": {"host": "127.0.0.1", "port": 1},
            "poll_interval_s": INTERVAL_S,
            "devices": [
                # The examples' cap: it no longer decides how often a device is tried.
                {"kind": "modbus_tcp", "id": "plc", "host": "127.0.0.1", "port": tcp_port,
                 "backoff_cap_s": 30},
                {"kind": "modbus_rtu", "id": "rtu", "port": rtu_port, "parity": "N",
                 "timeout_s": 0.3, "backoff_cap_s": 30},
            ],
            "buttons": [
                {"device": "plc", "address": BUTTON, "station": "st-tcp", "call_type": "help"},
                {"device": "rtu", "address": BUTTON, "station": "st-rtu", "call_type": "help"},
            ],
        }
    )  # fmt: skip


class RtuPlc:
    """A pty pair from socat and an RTU server on its first end, started and stopped as
    a device that is switched off and on: the agent's end vanishes and comes back."""

    def __init__(self, folder: Path, make: Callable[[str], Plc]) -> None:
        self.folder = folder
        self._make = make
        self._stack = contextlib.ExitStack()

    def start(self) -> Plc:
        with contextlib.ExitStack() as stack:
            pair = stack.enter_context(PtyPair(self.folder))
            plc = self._make(str(pair.device_end))
            plc.start()
            stack.callback(plc.stop)
            self._stack = stack.pop_all()
        return plc

    def stop(self) -> None:
        self._stack.close()


async def _come_back(
    start: Callable[[], Plc], tries: Tries, sink: Recording, device: str, station: str
) -> Outcome:
    """Start the device again and press its button; the outcome once the press is seen
    (but its tries while away, which the caller knows)."""
    plc = await asyncio.to_thread(start)
    back, connects = time.monotonic(), tries.link.connects
    await asyncio.to_thread(plc.set_coil, BUTTON, True)
    await sink.until(lambda: [t for t in sink.pressed.get(station, []) if t > back])
    answered = [t for t in sink.answered.get(device, []) if t > back]
    if not answered:
        raise RuntimeError(f"{device}: a press was seen but the device never answered")
    return Outcome(
        tries=[],
        back=back,
        tries_after_back=tries.link.connects - connects,
        answered=min(answered),
        pressed=min(t for t in sink.pressed[station] if t > back),
    )


async def _listen(port: int, seconds: float, tries: Tries) -> SeenOutside:
    """Accept and close every connection on ``port`` for ``seconds``."""
    accepted: list[float] = []
    loop = asyncio.get_running_loop()
    listening = time.monotonic()
    listener = await loop.create_server(
        lambda: AcceptAndClose(accepted), "127.0.0.1", port, reuse_address=True
    )
    await asyncio.sleep(seconds)
    listener.close()
    await listener.wait_closed()
    return SeenOutside(accepted, len(tries.within(listening, time.monotonic())))


async def tcp_outage(
    port: int, outage_s: float, tries: Tries, sink: Recording, make: Callable[[int], Plc]
) -> Outcome:
    """Stop the TCP PLC for ``outage_s``: refused, then accepted and closed; start it again."""
    plc = make(port)
    try:
        await asyncio.to_thread(plc.start)
        await sink.until(lambda: sink.answered.get("plc"))
    finally:
        await asyncio.to_thread(plc.stop)
    away = time.monotonic()
    await asyncio.sleep(outage_s / 2)
    outside = await _listen(port, outage_s / 2, tries)
    plc = make(port)

    def start() -> Plc:
        plc.start()
        return plc

    try:
        outcome = await _come_back(start, tries, sink, "plc", "st-tcp")
    finally:
        await asyncio.to_thread(plc.stop)
    return dataclasses.replace(outcome, tries=tries.within(away, outcome.back), outside=outside)


async def rtu_outage(
    folder: Path, outage_s: float, tries: Tries, sink: Recording, make: Callable[[str], Plc]
) -> Outcome:
    """Take the pty pair and its RTU server away for ``outage_s``, then bring both back."""
    device = RtuPlc(folder, make)
    try:
        await asyncio.to_thread(device.start)
        await sink.until(lambda: sink.answered.get("rtu"))
        await asyncio.to_thread(device.stop)
        away = time.monotonic()
        await asyncio.sleep(outage_s)
        outcome = await _come_back(device.start, tries, sink, "rtu", "st-rtu")
    finally:
        await asyncio.to_thread(device.stop)
    return dataclasses.replace(outcome, tries=tries.within(away, outcome.back))


@contextlib.asynccontextmanager
async def _polling(config: EdgeConfig, sink: Recording) -> AsyncIterator[dict[str, Tries]]:
    """The edge's pollers of ``config`` running, and the tries of each device's link."""
    async with open_devices(config.devices) as drivers, asyncio.TaskGroup() as tasks:
        tries = {device: Tries(driver.link) for device, driver in drivers.items()}
        watchers = [tasks.create_task(t.watch()) for t in tries.values()]
        pollers = build_pollers(config, drivers, sink)
        polls = [tasks.create_task(poller.run()) for poller in pollers]
        try:
            yield tries
        finally:
            for poller in pollers:
                poller.stop.set()
            for task in watchers + polls:
                task.cancel()


async def measure_outage(outage_s: float, *, folder: Path, plcs: Plcs) -> dict[str, Outcome]:
    """Take both PLCs away for ``outage_s`` at once; each one's outcome, by device kind.

    ``folder`` holds the RTU device's pty pair."""
    port = free_port()
    config = edge_config(port, PtyPair(folder).address)
    sink = Recording()
    async with _polling(config, sink) as tries, asyncio.TaskGroup() as outages:
        tcp = outages.create_task(tcp_outage(port, outage_s, tries["plc"], sink, plcs.tcp))
        rtu = outages.create_task(rtu_outage(folder, outage_s, tries["rtu"], sink, plcs.rtu))
    return {"tcp": tcp.result(), "rtu": rtu.result()}


def run_reconnect_bench(outages: Sequence[float], *, folder: Path, plcs: Plcs) -> dict[str, Any]:
    """One outage after the other (both kinds of PLC in each), and the figures of each."""
    report: list[dict[str, Any]] = []
    for number, outage_s in enumerate(outages):
        # A folder each: a pty pair's links are made anew, never over a former run's.
        ptys = folder / f"outage-{number}"
        ptys.mkdir()
        outcomes = asyncio.run(measure_outage(outage_s, folder=ptys, plcs=plcs))
        for device, outcome in outcomes.items():
            report.append({"outage_s": outage_s, "device": device} | outcome.figures())
    return {"outages": report, "retry_within_s": RETRY_WITHIN_S, "poll_interval_s": INTERVAL_S}
