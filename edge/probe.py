"""``andon edge --config FILE --test``: read every device once and show what was decoded.

This is how a plant checks its register map before going live (as Telegraf's ``--test``):
one JSON object per line for each measurement and each button, each with its ``address``
as the configuration writes it (``table`` and ``bit`` null for a device that is not
Modbus), and every failed read named by device and address. An OPC UA server's tags are
read once each, as they are, rather than subscribed to; an S7 PLC's are polled once.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from drivers import Address, DeviceError, DeviceMisconfigured, ModbusUnitDriver, Table, open_devices
from drivers.opcua import OpcUaDriver
from edge.config import EdgeConfig
from edge.polling import ButtonTag, Cycle, ReadFailure
from edge.session import build_pollers
from edge.subscribing import SubscribedDevice, subscribed_devices
from edge.tag_polling import tag_pollers


@dataclass
class ProbeResult:
    lines: list[dict[str, Any]] = field(default_factory=list)
    failures: list[ReadFailure] = field(default_factory=list)


class _Collector:
    """A PollSink that keeps every button state and reading as a JSON-ready dict."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def button(self, tag: ButtonTag, pressed: bool, now: float) -> None:
        del now
        c = tag.config
        self.lines.append(
            {
                "button": f"{c.station}/{c.call_type}",
                "station": c.station,
                "call_type": c.call_type,
                "device": c.device,
                **_where(c.address, c.table, c.bit),
                "pressed": pressed,
            }
        )

    def device_checked(self, driver: ModbusUnitDriver) -> None:
        del driver

    def device_state(self, device: str, *, up: bool, reason: str = "") -> None:
        del device, up, reason

    def cycle_done(self, poller: Cycle) -> None:
        for block in poller.fresh:
            for tag, raw, value in zip(block.tags, block.raws, block.values, strict=True):
                c = tag.config
                self.lines.append(
                    {
                        "name": c.name,
                        "value": value,
                        "unit": c.unit,
                        "station": c.station,
                        "device": c.device,
                        **_where(c.address, c.table, None),
                        "raw": raw,
                    }
                )


def _where(address: Address | None, table: Table, bit: int | None) -> dict[str, object]:
    """A tag's address as the configuration writes it; table and bit only on Modbus."""
    if isinstance(address, str):
        return {"table": None, "address": address, "bit": None}
    return {"table": str(table), "address": address, "bit": bit}


async def probe(config: EdgeConfig) -> ProbeResult:
    """Read every tag of ``config`` once, link by link and server by server side by side."""
    collector = _Collector()
    async with open_devices(config.devices) as drivers:
        pollers = build_pollers(config, drivers, collector)
        polled = [poller.poll_once() for poller in pollers]
        read = [_read_once(device, collector) for device in subscribed_devices(config, collector)]
        by_address = tag_pollers(config, collector)
        polled += [poller.poll_once() for poller in by_address]
        try:
            failures = await asyncio.gather(*polled, *read)
        finally:
            for poller in by_address:
                await poller.driver.disconnect()
    return ProbeResult(collector.lines, [f for group in failures for f in group])


async def _read_once(device: SubscribedDevice, collector: _Collector) -> list[ReadFailure]:
    """Every tag of one OPC UA server read once, each on its own so one bad NodeId does
    not hide the others' values."""
    failures: list[ReadFailure] = []
    items = device.items()
    async with OpcUaDriver(device.device) as driver:
        try:
            await driver.connect()
        except DeviceError as exc:
            return [ReadFailure(device.device.id, None, i.address, 1, str(exc)) for i in items]
        for item in items:
            address = item.address
            try:
                value = (await driver.read_tags([address]))[address]
                if item.value_type is not None:
                    found = (await driver.value_types([address]))[address]
                    if found != item.value_type:
                        raise DeviceMisconfigured(f"its DataType is {found}, not {item.value_type}")
            except DeviceError as exc:
                failures.append(ReadFailure(device.device.id, None, address, 1, str(exc)))
                continue
            for button in device.buttons.get(address, ()):
                collector.button(button, bool(value), 0.0)
            device.latest[address] = value
    readings = device.readings([tag for tags in device.measurements.values() for tag in tags])
    if readings is not None:
        device.fresh.append(readings)
        collector.cycle_done(device)
    return failures


def print_probe(result: ProbeResult, out: Any, err: Any) -> int:
    """Print the lines (stdout) and the failures (stderr); 0 if every read worked."""
    for line in result.lines:
        print(json.dumps(line, allow_nan=True), file=out)
    for failure in result.failures:
        if failure.table is None:  # a device read by address string: one tag
            where = f"address {failure.address}"
        else:
            where = f"{failure.table} address {failure.address} (count {failure.count})"
        print(f"FAILED device {failure.device} {where}: {failure.error}", file=err)
    return 1 if result.failures else 0
