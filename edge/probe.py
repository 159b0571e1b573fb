"""``andon edge --config FILE --test``: read every device once and show what was decoded.

This is how a plant checks its register map before going live (as Telegraf's ``--test``):
one JSON object per line for each measurement and each button, and every failed read
named by device, table and address.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from drivers import ModbusUnitDriver, open_devices
from edge.config import EdgeConfig
from edge.polling import ButtonTag, LinkPoller, ReadFailure
from edge.session import build_pollers


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
                "table": str(c.table),
                "address": c.address,
                "bit": c.bit,
                "pressed": pressed,
            }
        )

    def device_checked(self, driver: ModbusUnitDriver) -> None:
        del driver

    def cycle_done(self, poller: LinkPoller) -> None:
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
                        "raw": raw,
                    }
                )


async def probe(config: EdgeConfig) -> ProbeResult:
    """Read every tag of ``config`` once, link by link side by side."""
    collector = _Collector()
    async with open_devices(config.devices) as drivers:
        pollers = build_pollers(config, drivers, collector)
        failures = await asyncio.gather(*(poller.poll_once() for poller in pollers))
    return ProbeResult(collector.lines, [f for group in failures for f in group])


def print_probe(result: ProbeResult, out: Any, err: Any) -> int:
    """Print the lines (stdout) and the failures (stderr); 0 if every read worked."""
    for line in result.lines:
        print(json.dumps(line, allow_nan=True), file=out)
    for failure in result.failures:
        print(
            f"FAILED device {failure.device} {failure.table} address {failure.address}"
            f" (count {failure.count}): {failure.error}",
            file=err,
        )
    return 1 if result.failures else 0
