"""The driver contract for devices whose tags are named by address strings (OPC UA today;
S7 and Logix next): read a set of tags, write one, and, for drivers that can, deliver
changes as they happen instead of being polled.

Modbus keeps its own contract (``ModbusUnitDriver.read(table, address, count)``): its
tags are grouped into as few requests as the protocol allows (``edge/plan.py``), which
is what keeps a poll cycle of hundreds of tags cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

Value = bool | int | float | str
"""A decoded value: what the rest of the edge sees, whatever the protocol."""


class TagDriver(Protocol):
    """Reads and writes tags by address; errors are DeviceUnavailable or DeviceMisconfigured."""

    async def read_tags(self, addresses: Sequence[str]) -> dict[str, Value]:
        """The value of each address, read together."""
        ...

    async def write_tag(self, address: str, value: Value) -> None:
        """Write one tag, converted to the tag's own type on the device."""
        ...
