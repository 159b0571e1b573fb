"""What pollers read, turned into events in the outbox: calls, anomalies, measurements and
device status.

Calls, anomalies and status changes are stored at once; measurements and the SPC points
they close are batched, one message per edge and poll cycle (``edge/measurement_batch.py``),
stored as droppable (they go out behind every call).
Every station event carries the station's current part (serial, lot) when one is known:
from string measurements named in ``stations:``, or from ``set_part`` (a scanner).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable

from contract.wire import (
    AnyEvent,
    ArrivalEvent,
    ArrivalPayload,
    CallPayload,
    DeviceStatusEvent,
    DeviceStatusPayload,
    Event,
    FaultEvent,
    FaultPayload,
    MachineEvent,
    MachinePayload,
    MeasuredValue,
    OutputEvent,
    OutputPayload,
    PartRef,
    Topics,
    event_json,
    make_event_id,
    utc_now,
)
from drivers import ModbusUnitDriver
from edge.anomaly_json import anomaly_json
from edge.config import ButtonConfig, EdgeConfig
from edge.machines import MachineWatch
from edge.measurement_batch import MeasurementBatcher
from edge.measurement_json import ReadingRow
from edge.outbox import MessageBuilder, Outbox
from edge.polling import ButtonTag, Cycle, MeasurementTag
from edge.sparkplug_node import SparkplugNode
from edge.spc_config import load_rule_file
from rules.buttons import Admission, ChatterGuard, Press
from rules.spc.monitor import Anomaly, SpcCycle, SpcMonitor

log = logging.getLogger(__name__)


class Recorder:
    """The agent's ``PollSink``: it owns the events' content, the outbox their order."""

    def __init__(self, config: EdgeConfig, outbox: Outbox, topics: Topics) -> None:
        self.outbox = outbox
        self.topics = topics
        self.wakeup = asyncio.Event()
        self.published = 0
        self.presses = 0
        self.suppressed = 0  # presses dropped as chatter
        self.anomalies = 0
        # Told of every call raised (its station and event): the local light fallback.
        self.on_call: Callable[[str, int], None] | None = None
        # Told of a device that answers again after an outage (the lights: a PLC back
        # from a power cut has every output off, so they are written again).
        self.on_device_back: Callable[[str], None] | None = None
        # The Sparkplug B face, when the file has one: told of buttons and published values.
        self.sparkplug: SparkplugNode | None = None
        self._chatter: dict[str, ChatterGuard] = {}
        self.latest: dict[str, MeasuredValue] = {}
        self.parts: dict[str, PartRef] = {}
        self._device_up: dict[str, bool] = {}
        self._config = config
        self._sources: dict[str, tuple[str, str]] = {}
        self._stations: dict[str, str] = {}
        self._spc: SpcMonitor | None = None
        self.anomaly_log = AnomalyLog()
        self.machines = MachineWatch()
        # Told of every machine report stored (station, state): the demo prints them.
        self.on_machine: Callable[[str, MachinePayload], None] | None = None
        self.measurements = MeasurementBatcher(
            topic=topics.measurement(config.site, config.edge_id),
            head=self._head,
            interval_s=config.poll_interval_s,
        )

    def configure(self, config: EdgeConfig) -> None:
        """Use ``config`` from now on; SPC state is kept while its section is unchanged."""
        spc_changed = self._spc is None or _spc_inputs(config) != _spc_inputs(self._config)
        self.flush_measurements()
        self.measurements.forget_links()
        self.measurements.interval_s = config.poll_interval_s
        if config.chatter != self._config.chatter:
            self._chatter.clear()
        self._config = config
        self.machines.configure(config)
        self._stations = {m.name: m.station for m in config.measurements}
        self.measurements.units = {m.name: m.unit for m in config.measurements if m.unit}
        self._sources = {
            name: (station.id, key)
            for station in config.stations
            for key in ("serial", "lot")
            if (name := getattr(station, key)) is not None
        }
        if config.spc is None:
            self._spc = None
        elif spc_changed:
            read_together = {
                m.name: (m.device, str(m.table), m.every_s or config.poll_interval_s)
                for m in config.measurements
            }
            stations = {m.name: m.station for m in config.measurements}
            self._spc = SpcMonitor(
                config.spc, load_rule_file(config.spc), read_together, stations=stations
            )

    def flush_measurements(self) -> None:
        """Store the measurements that wait for the other links' cycles (at a stop)."""
        self.anomaly_log.flush(time.monotonic())
        waiting = self.measurements.flush(self.parts)
        if waiting:
            self.outbox.add_many([], waiting)
            self.wakeup.set()

    def set_part(self, station: str, *, serial: str | None = None, lot: str | None = None) -> None:
        """The part now at ``station`` (a scanner read it, or a register holds it)."""
        current = self.parts.get(station, PartRef())
        self.parts[station] = PartRef(
            serial=serial if serial is not None else current.serial,
            lot=lot if lot is not None else current.lot,
        )

    # -- PollSink ----------------------------------------------------------------------

    def button(self, tag: ButtonTag, pressed: bool, now: float) -> None:
        held = tag.signal.level
        if tag.config.name is not None:
            self.latest[tag.config.name] = pressed
        rising = tag.signal.update(pressed, now)
        if tag.signal.level != held:
            self.held(tag.config, held=tag.signal.level)
        if tag.hold is None:
            if rising:
                self.press(tag.config, now)
            return
        kind = tag.hold.update(tag.signal.level, now)
        if kind is not None:
            self.press(tag.config, now, long=kind is Press.LONG)

    def held(self, button: ButtonConfig, *, held: bool) -> None:
        """``button`` is now held down or let go: the Sparkplug face's call metric follows
        (a polled or subscribed button after its debounce, a serial station's at once)."""
        if self.sparkplug is not None and button.sends == "call" and button.call_type is not None:
            self.sparkplug.button(button.device, button.station, button.call_type, held=held)

    def press(self, button: ButtonConfig, now: float, *, long: bool = False) -> int | None:
        """A press of ``button`` at ``now`` (monotonic seconds): its call or arrival event,
        or nothing when its station chatters (reported once as a ``fault`` event)."""
        station = button.station
        guard = self._chatter.get(station)
        if guard is None:
            chatter = self._config.chatter
            guard = ChatterGuard(max_presses=chatter.max_presses, window_s=chatter.window_s)
            self._chatter[station] = guard
        verdict = guard.admit(now)
        if verdict.admission is not Admission.ACCEPT:
            self.suppressed += 1
            if verdict.admission is Admission.REPORT:
                window = self._config.chatter.window_s
                log.warning(
                    "station %s chatters: %d presses in %g s", station, verdict.presses, window
                )
                detail = (
                    f"more than {guard.max_presses} presses in {window:g} s; further ones dropped"
                )
                self.fault(
                    station, FaultPayload(fault="chatter", presses=verdict.presses, detail=detail)
                )
            return None
        if button.sends == "arrival":
            return self.raise_arrival(station, button.call_type)
        call_type = button.long_press.call_type if long and button.long_press else button.call_type
        assert call_type is not None  # a call button has one: checked with the configuration
        return self.raise_call(station, call_type)

    def raise_arrival(
        self, station: str, call_type: str | None = None, *, badge: str | None = None
    ) -> int:
        """The responder is at ``station`` (its arrival button, or ``badge`` scanned at its
        badge scanner): store the arrival event."""
        payload = ArrivalPayload(call_type=call_type, badge=badge)
        seq = self.outbox.add(
            self._station_event(
                station, lambda head: ArrivalEvent(**head, kind="arrival", payload=payload)
            )
        )
        log.info("arrival at station %s: event %s", station, seq)
        self.wakeup.set()
        return seq

    def fault(self, station: str, payload: FaultPayload | OutputPayload) -> int:
        """A fault at ``station`` for the hub to keep (light mismatch, chatter), or the
        outcome of a line-stop command."""
        seq = self.outbox.add(
            self._station_event(
                station,
                lambda head: (
                    OutputEvent(**head, kind="output", payload=payload)
                    if isinstance(payload, OutputPayload)
                    else FaultEvent(**head, kind="fault", payload=payload)
                ),
            )
        )
        self.wakeup.set()
        return seq

    def raise_call(self, station: str, call_type: str) -> int:
        """A press at ``station``: store its call event; return its sequence number.

        Every button source ends here: Modbus buttons through ``button``, and a serial
        button station's press events the same way."""
        self.presses += 1
        seq = self.outbox.add(
            self._station_event(
                station,
                lambda head: Event(**head, kind="call", payload=CallPayload(call_type=call_type)),
            )
        )
        log.info("press at station %s (%s): event %s", station, call_type, seq)
        if self.on_call is not None:
            self.on_call(station, seq)
        self.wakeup.set()
        return seq

    def device_checked(self, driver: ModbusUnitDriver) -> None:
        self.device_state(driver.config.id, up=driver.up)

    def device_state(self, device: str, *, up: bool, reason: str = "") -> None:
        """Publish a ``device_status`` event when ``device`` changed state."""
        if self._device_up.get(device, True) == up:
            return
        self._device_up[device] = up
        if up and self.on_device_back is not None:
            self.on_device_back(device)
        status = "online" if up else "offline"
        cfg = self._config
        topic = self.topics.edge_event(cfg.site, cfg.edge_id)

        def build(seq: int) -> tuple[str, str]:
            event = DeviceStatusEvent(
                **self._head(seq),
                kind="device_status",
                payload=DeviceStatusPayload(device=device, status=status, reason=reason[:256]),
            )
            return topic, event_json(event)

        self.outbox.add(build)
        self.wakeup.set()

    def cycle_done(self, poller: Cycle) -> None:
        self.outbox.write_due()
        if not poller.fresh:
            self._machine_reports()
            return
        fresh: dict[str, MeasuredValue] = {}
        readings: list[ReadingRow] = []
        for block in poller.fresh:
            if block.published is not None:
                names, keys = block.published
                fresh.update(zip(names, block.values, strict=True))
                readings += [
                    (station, name, value, unit)
                    for (station, name, unit), value in zip(keys, block.values, strict=True)
                ]
                continue
            for tag, value in zip(block.tags, block.values, strict=True):
                config = tag.config
                fresh[config.name] = value
                if _should_publish(tag, value):
                    tag.last_published = value
                    readings.append((config.station, config.name, value, config.unit))
        self.latest.update(fresh)
        if self.sparkplug is not None:
            for _station, name, value, _unit in readings:
                self.sparkplug.measured(name, value)
        self._machine_reports()
        for name, (station, key) in self._sources.items():
            text = fresh.get(name)
            if isinstance(text, str):
                self.set_part(station, **{key: text})
        charted = self._spc.cycle(fresh, self.latest) if self._spc is not None else SpcCycle()
        events = [self._anomaly_event(anomaly) for anomaly in charted.anomalies]
        measurements = self.measurements.add(poller.name, readings, charted.points, self.parts)
        if events or measurements:
            # One transaction: the anomalies as events, the measurements behind every call.
            self.outbox.add_many(events, measurements, derived=True)
            self.wakeup.set()
        if events:
            self.anomalies += len(events)
            self.anomaly_log.add(charted.anomalies, time.monotonic())

    def _machine_reports(self) -> None:
        """Store a ``machine`` event for each machine whose state or counters changed."""
        reports = self.machines.reports(self.latest)
        if not reports:
            return
        # Derived from the cycle's readings, as anomalies are: synced with the next call.
        self.outbox.add_many(
            [self._station_event(station, _machine_event(payload)) for station, payload in reports],
            derived=True,
        )
        for station, payload in reports:
            log.info("machine at station %s: %s", station, payload.state)
            if self.on_machine is not None:
                self.on_machine(station, payload)
            if self.sparkplug is not None:
                self.sparkplug.machine_state(station, payload.state)
        self.wakeup.set()

    # -- events ------------------------------------------------------------------------

    def _head(self, seq: int) -> dict[str, object]:
        cfg = self._config
        return {
            "event_id": make_event_id(cfg.edge_id, seq),
            "edge_id": cfg.edge_id,
            "seq": seq,
            "ts": utc_now(),
            "site": cfg.site,
            "area": cfg.area,
            "line": cfg.line,
        }

    def _station_event(
        self, station: str, make: Callable[[dict[str, object]], AnyEvent]
    ) -> MessageBuilder:
        cfg = self._config
        topic = self.topics.station_event(cfg.site, cfg.area, cfg.line, station, cfg.edge_id)
        part = self.parts.get(station)

        def build(seq: int) -> tuple[str, str]:
            head = {**self._head(seq), "station": station}
            if part is not None:
                head["part"] = part
            return topic, event_json(make(head))

        return build

    def _anomaly_event(self, anomaly: Anomaly) -> MessageBuilder:
        binding, signal = anomaly.binding, anomaly.signal
        source = binding.measurement or binding.defectives or ""
        station = self._station_of(source)
        cfg = self._config
        topic = self.topics.station_event(cfg.site, cfg.area, cfg.line, station, cfg.edge_id)
        part = self.parts.get(station)

        def build(seq: int) -> tuple[str, str]:
            body = anomaly_json(
                self._head(seq), station=station, part=part,
                characteristic=binding.characteristic, chart=anomaly.chart,
                measurement=source, tests=signal.tests, value=signal.value,
                center=signal.center, lcl=signal.lcl, ucl=signal.ucl,
                subgroup=signal.subgroup,
            )  # fmt: skip
            return topic, body

        return build

    def _station_of(self, measurement: str) -> str:
        return self._stations[measurement]


def _machine_event(payload: MachinePayload) -> Callable[[dict[str, object]], AnyEvent]:
    def make(head: dict[str, object]) -> AnyEvent:
        return MachineEvent(**head, kind="machine", payload=payload)

    return make


class AnomalyLog:
    """The log's account of SPC anomalies: the first at once, then one line at most every
    ``every_s`` seconds with how many there were since and the first few of them.

    Each anomaly is an event for the hub already; a rule set that fires on many charts
    ten times a second must not make writing the log the agent's main work (a line per
    cycle was a tenth of its CPU in the edge benchmark)."""

    EXAMPLES = 5

    def __init__(self, every_s: float = 10.0) -> None:
        self.every_s = every_s
        self._count = 0
        self._examples: list[Anomaly] = []
        self._last = -math.inf

    def add(self, anomalies: list[Anomaly], now: float) -> None:
        self._count += len(anomalies)
        room = self.EXAMPLES - len(self._examples)
        if room > 0:
            self._examples += anomalies[:room]
        if now - self._last >= self.every_s:
            self.flush(now)

    def flush(self, now: float) -> None:
        """Write what was not written yet (at once, and at a stop)."""
        if not self._count:
            return
        elapsed = "" if math.isinf(self._last) else f" in the last {now - self._last:.0f} s"
        more = self._count - len(self._examples)
        log.warning(
            "SPC: %d subgroup(s) failed tests%s: %s%s",
            self._count,
            elapsed,
            ", ".join(
                f"{a.binding.characteristic} ({a.chart}) tests {list(a.signal.tests)} "
                f"at subgroup {a.signal.subgroup}"
                for a in self._examples
            ),
            f" and {more} more" if more > 0 else "",
        )
        self._count, self._examples, self._last = 0, [], now


def _spc_inputs(config: EdgeConfig) -> tuple[object, ...]:
    """What the SPC state depends on: while it stays the same, a reload keeps the state.
    The ``spc`` section compares the contents of its rule file too (``SpcConfig``)."""
    return (config.spc, config.measurements, config.poll_interval_s)


def _should_publish(tag: MeasurementTag, value: MeasuredValue) -> bool:
    if isinstance(value, float) and not math.isfinite(value):
        return False  # JSON has no NaN; the reading still feeds SPC (which skips it)
    deadband = tag.config.deadband
    if deadband is None:
        return True
    last = tag.last_published
    if last is None:
        return True
    if isinstance(value, bool | str) or isinstance(last, bool | str):
        return value != last
    return abs(value - last) > deadband
