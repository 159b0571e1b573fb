"""The driver contract for devices whose tags are named by address strings (OPC UA, S7;
Logix): read a set of tags, write one, and, for drivers that can, deliver changes
as they happen instead of being polled (``run(items, sink)`` with ``Monitored`` items
and a ``ChangeSink``); the others are polled (``PolledTagDriver``).

Modbus keeps its own contract (``ModbusUnitDriver.read(table, address, count)``): its
tags are grouped into as few requests as the protocol allows (``drivers/modbus_plan.py``), which
is what keeps a poll cycle of hundreds of tags cheap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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

    async def write_tags(self, values: Mapping[str, Value]) -> None:
        """Write several tags (a light's outputs), in one request where the protocol
        allows; each converted to its own type."""
        ...


class PolledTagDriver(TagDriver, Protocol):
    """A driver read by address strings that the edge polls (S7, Logix). It opens
    its connection when first asked, and again after a failure on ``contract/backoff.py``'s
    ``Outage`` schedule (DeviceUnavailable meanwhile)."""

    @property
    def up(self) -> bool:
        """Whether the device answered the last request."""
        ...

    async def disconnect(self) -> None:
        """Close the connection (the next read opens it again)."""
        ...


@dataclass(frozen=True)
class Monitored:
    """One input a pushing driver is to deliver: its address as configured, how often the
    device is to sample it, and the value type the configuration expects (None: any)."""

    address: str
    sampling_interval_ms: float = 0.0
    value_type: str | None = None


class ChangeSink(Protocol):
    """Where a pushing driver delivers what it hears."""

    def changed(self, address: str, value: Value | None) -> None:
        """A new value (None: the device says it is not good now)."""

    def state(self, *, up: bool, reason: str) -> None:
        """The device answered (``up``) or stopped answering, and why."""

    def refused(self, address: str, reason: str) -> None:
        """The device refused to deliver ``address`` (an unknown node, a wrong type)."""
