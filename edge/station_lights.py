"""Each station's tower light on the PLC: the hub's command, or the edge's own fallback.

The hub publishes a light command per station (retained); the edge writes it to the
station's outputs (coils, or bits of a holding register), reads them back (from lamp
feedback inputs when configured) and reports a mismatch as a ``fault`` event.

While the hub is unreachable (its status says offline, or the broker is down) a new
call lights its station itself: amber, flashing, buzzer on, as ``rules.lights`` has it
for a call nobody has acknowledged. The call waits in the outbox as always. When the
hub is back and has confirmed every call the station raised meanwhile, the next command
it publishes for the station takes over (or, should none come, the last one it sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping

from contract.wire import FaultPayload, LightCommand, OutputPayload, utc_now
from drivers import DeviceError, ModbusUnitDriver, Table, TagDriver
from edge.config import EdgeConfig, LightConfig, OutputMap
from rules.lights import OpenCall, station_light

log = logging.getLogger(__name__)

# After the hub confirmed a station's fallback calls, how long its own next command may
# take before the last one it sent is used instead.
TAKEOVER_S = 2.0
RETRY_S = 1.0

OutputDriver = ModbusUnitDriver | TagDriver
"""A device with light outputs: Modbus (coils, register bits) or by address (OPC UA)."""

FaultSink = Callable[[str, FaultPayload | OutputPayload], object]
"""Where a station's light faults and line-stop outcomes go (the recorder: to the hub)."""


def local_light() -> LightCommand:
    """The light the edge sets itself for a new call while the hub is away."""
    light = station_light([OpenCall("raised")])
    return LightCommand(
        colour=light.colour.value, flashing=light.flashing, buzzer=light.buzzer,
        state="raised", ts=utc_now(),
    )  # fmt: skip


def output_values(command: LightCommand) -> dict[str, int]:
    """Each output's value (0 or 1) for ``command``."""
    colours = {
        colour: int(command.colour == colour) for colour in ("red", "amber", "blue", "green")
    }
    return {
        **colours,
        "flashing": int(command.flashing),
        "buzzer": int(command.buzzer),
        "line_stop": int(command.line_stop),
    }


class StationLights:
    """The light outputs of every configured station, and who decides them."""

    def __init__(self, config: EdgeConfig, report: FaultSink) -> None:
        self.report = report
        self.hub_reachable = False
        self.written = 0
        self.mismatches = 0
        self._configs: dict[str, LightConfig] = {}
        self._hub: dict[str, LightCommand] = {}
        self._desired: dict[str, LightCommand] = {}
        self._local: dict[str, set[int]] = {}
        self._released: dict[str, float] = {}
        self._faults: dict[str, tuple[object, ...]] = {}
        self._written: dict[str, dict[str, int]] = {}  # what read back right last time
        self._line_stops: dict[str, int] = {}  # the line-stop output last read back right
        self._dirty: set[str] = set()
        self._wakeup = asyncio.Event()
        # Told of each station's light as it is decided (the Sparkplug face).
        self.on_light: Callable[[str, LightCommand], None] | None = None
        self.configure(config)

    def configure(self, config: EdgeConfig) -> None:
        self._configs = {light.station: light for light in config.lights}
        self._written.clear()  # a reload may have moved the outputs: write them all again
        self._dirty |= set(self._desired) & set(self._configs)
        self._wakeup.set()

    def device_back(self, device: str) -> None:
        """``device`` answers again after an outage: it may have restarted with its outputs
        off, so its stations' lights are written again."""
        stations = {station for station, c in self._configs.items() if c.device == device}
        for station in stations:
            self._written.pop(station, None)
        self._dirty |= stations & set(self._desired)
        self._wakeup.set()

    @property
    def in_fallback(self) -> set[str]:
        """Stations whose light the edge set itself and the hub has not taken back yet."""
        return set(self._local) | set(self._released)

    def hub_state(self, *, reachable: bool) -> None:
        if reachable != self.hub_reachable:
            log.warning(
                "hub %s: %s", "reachable" if reachable else "unreachable",
                "it drives the lights" if reachable else "new calls light their station here",
            )  # fmt: skip
        self.hub_reachable = reachable

    def hub_command(self, station: str, command: LightCommand) -> None:
        """The hub's light for ``station`` (applied unless the edge holds it for now)."""
        self._hub[station] = command
        if station in self._local:
            return
        self._released.pop(station, None)
        self._set(station, command)

    def local_call(self, station: str, seq: int) -> None:
        """A call was raised at ``station`` (event ``seq``): light it if the hub cannot."""
        if station not in self._configs:
            return
        if self.hub_reachable and station not in self._local:
            return
        self._local.setdefault(station, set()).add(seq)
        self._released.pop(station, None)
        log.info("hub unreachable: station %s lit by the edge for event %d", station, seq)
        self._set(station, local_light())

    def settled(self, seqs: Iterable[int], now: float) -> None:
        """The hub confirmed these events: stations whose fallback calls all are, are released."""
        done = set(seqs)
        for station in list(self._local):
            self._local[station] -= done
            if not self._local[station]:
                del self._local[station]
                self._released[station] = now

    def tick(self, now: float) -> None:
        """Give a released station the hub's last command if no newer one came."""
        for station, since in list(self._released.items()):
            if now - since >= TAKEOVER_S and station in self._hub:
                del self._released[station]
                self._set(station, self._hub[station])

    def _set(self, station: str, command: LightCommand) -> None:
        self._desired[station] = command
        if self.on_light is not None:
            self.on_light(station, command)
        if station in self._configs:
            self._dirty.add(station)
            self._wakeup.set()

    @contextlib.asynccontextmanager
    async def running(self, drivers: Mapping[str, OutputDriver]) -> AsyncIterator[None]:
        """Write the lights to ``drivers`` until the block ends."""
        self._written.clear()  # new connections: the PLC may have restarted meanwhile
        self._dirty |= set(self._desired) & set(self._configs)
        task = asyncio.create_task(self._write_forever(drivers), name="edge-lights")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _write_forever(self, drivers: Mapping[str, OutputDriver]) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RETRY_S / 4):
                    await self._wakeup.wait()
            self._wakeup.clear()
            self.tick(time.monotonic())
            stations, self._dirty = self._dirty, set()
            for station in sorted(stations):
                config = self._configs.get(station)
                if config is None or station not in self._desired:
                    continue
                if not await self._write(drivers[config.device], config, station):
                    self._dirty.add(station)  # tried again at the next round

    async def _write(self, driver: OutputDriver, config: LightConfig, station: str) -> bool:
        values = output_values(self._desired[station])
        wanted: dict[str, int] = {name: values[name] for name in config.outputs}
        if self._written.get(station) == wanted:
            return True  # already so, and it read back right
        try:
            if isinstance(driver, ModbusUnitDriver):
                await _write_outputs(driver, config, wanted)
                read_back = await _read_outputs(driver, config.feedback or config)
            else:
                await driver.write_tags(
                    {str(address): wanted[name] for name, address in config.outputs.items()}
                )
                read_back = await _read_named(driver, config.feedback or config)
        except DeviceError as exc:
            log.warning("cannot set the light of station %s: %s", station, exc)
            await asyncio.sleep(RETRY_S)
            return False
        self.written += 1
        self._check(station, config, wanted, read_back)
        if read_back == wanted:
            self._written[station] = wanted
            self._line_stop_outcome(station, config, wanted)
        else:
            self._written.pop(station, None)
        return True

    def _line_stop_outcome(self, station: str, config: LightConfig, wanted: dict[str, int]) -> None:
        """Tell the hub once the line-stop output is set or released as commanded."""
        value = wanted.get("line_stop")
        if value is None or value == self._line_stops.get(station, 0):
            return
        self._line_stops[station] = value
        log.warning("line stop of station %s %s", station, "set" if value else "released")
        self.report(
            station,
            OutputPayload(output="line_stop", value=1 if value else 0, device=config.device),
        )

    def _check(
        self, station: str, config: LightConfig, wanted: dict[str, int], read_back: dict[str, int]
    ) -> None:
        key = (tuple(sorted(wanted.items())), tuple(sorted(read_back.items())))
        if read_back == wanted:
            self._faults.pop(station, None)
            return
        if self._faults.get(station) == key:
            return  # the same mismatch again: reported already
        self._faults[station] = key
        self.mismatches += 1
        wrong = sorted(name for name in wanted if read_back.get(name) != wanted[name])
        log.error("light of station %s reads back wrong: %s", station, ", ".join(wrong))
        self.report(
            station,
            FaultPayload(
                fault="light_mismatch", device=config.device, expected=wanted,
                read_back=read_back, detail=f"outputs read back wrong: {', '.join(wrong)}",
            ),
        )  # fmt: skip


async def _write_outputs(
    driver: ModbusUnitDriver, config: LightConfig, wanted: dict[str, int]
) -> None:
    # On a Modbus device every output is a number (checked with the configuration).
    outputs = {name: int(where) for name, where in config.outputs.items()}
    if config.table is Table.COIL:
        for name, address in outputs.items():
            await driver.write(Table.COIL, address, wanted[name])
        return
    assert config.address is not None  # checked with the configuration
    (current,) = await driver.read(Table.HOLDING_REGISTER, config.address, 1)
    mask = sum(1 << bit for bit in outputs.values())
    value = current & ~mask & 0xFFFF
    for name, bit in outputs.items():
        value |= wanted[name] << bit
    await driver.write(Table.HOLDING_REGISTER, config.address, value)


async def _read_outputs(driver: ModbusUnitDriver, where: OutputMap) -> dict[str, int]:
    outputs = {name: int(address) for name, address in where.outputs.items()}
    if where.table.is_bits:
        first, last = min(outputs.values()), max(outputs.values())
        bits = await driver.read(where.table, first, last - first + 1)
        return {name: int(bits[address - first]) for name, address in outputs.items()}
    assert where.address is not None  # checked with the configuration
    (word,) = await driver.read(where.table, where.address, 1)
    return {name: word >> bit & 1 for name, bit in outputs.items()}


async def _read_named(driver: TagDriver, where: OutputMap) -> dict[str, int]:
    """Outputs named by address, read together; a non-zero value is on."""
    values = await driver.read_tags([str(address) for address in where.outputs.values()])
    return {name: int(bool(values[str(address)])) for name, address in where.outputs.items()}
