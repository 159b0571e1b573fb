"""Turn a configuration into pollers: tags planned into reads, one poller per link."""

from __future__ import annotations

from collections import defaultdict

from drivers import LINKED_DRIVERS, ModbusUnitDriver, Table
from drivers.modbus_plan import plan_reads
from edge.config import EdgeConfig
from edge.polling import AnyTag, ButtonTag, LinkPoller, MeasurementTag, PollSink
from rules.buttons import HoldClassifier
from rules.signals import DebouncedButton


def build_tags(config: EdgeConfig) -> list[tuple[AnyTag, float]]:
    """Every polled button and measurement with its read interval: those on Modbus
    devices (an OPC UA server's arrive through its subscription: ``edge.subscribing``)."""
    polled = {device.id for device in config.devices if device.kind in LINKED_DRIVERS}
    tags: list[tuple[AnyTag, float]] = [
        (
            ButtonTag(
                b,
                DebouncedButton(stable_s=config.debounce_s),
                None if b.long_press is None else HoldClassifier(hold_s=b.long_press.hold_s),
            ),
            config.poll_interval_s,
        )
        for b in config.buttons
        if b.address is not None and b.device in polled  # serial buttons arrive as events
    ]
    tags += [
        (MeasurementTag(m), m.every_s or config.poll_interval_s)
        for m in config.measurements
        if m.device in polled
    ]
    return tags


def build_pollers(
    config: EdgeConfig, drivers: dict[str, ModbusUnitDriver], sink: PollSink
) -> list[LinkPoller]:
    """One poller per physical link, reading the tags of every unit on it."""
    max_count = {
        device_id: {table: driver.config.max_count(table) for table in Table}
        for device_id, driver in drivers.items()
    }
    max_gap = {device_id: driver.config.max_gap for device_id, driver in drivers.items()}
    reads = plan_reads(build_tags(config), max_count=max_count, max_gap=max_gap)
    by_link: dict[str, list[str]] = defaultdict(list)
    for device_id, driver in drivers.items():
        by_link[driver.link.name].append(device_id)
    pollers = []
    for link_name, device_ids in by_link.items():
        link_reads = [read for read in reads if read.device in device_ids]
        pollers.append(
            LinkPoller(
                name=link_name,
                reads=link_reads,
                drivers={device_id: drivers[device_id] for device_id in device_ids},
                interval_s=config.poll_interval_s,
                sink=sink,
            )
        )
    return pollers
