"""Which Modbus requests read a device's tags: contiguous addresses grouped, within limits.

Tags of one device, table and read interval are sorted by address and grouped into one
request while the group stays within the device's per-request maximum and the unused
addresses between two tags stay within its hole budget (``max_gap``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from drivers.modbus_unit import Table


class Tag(Protocol):
    """Anything read from a device: a button, a measurement."""

    @property
    def device(self) -> str: ...

    @property
    def table(self) -> Table: ...

    @property
    def address(self) -> int: ...

    @property
    def width(self) -> int: ...


TagT = TypeVar("TagT", bound=Tag)


@dataclass
class Read(Generic[TagT]):
    """One request: ``count`` values of ``table`` from ``start``, feeding ``tags``."""

    device: str
    table: Table
    start: int
    count: int
    every_s: float
    tags: list[TagT] = field(default_factory=list)
    next_at: float = 0.0


def plan_reads(
    tags: Sequence[tuple[TagT, float]],
    *,
    max_count: dict[str, dict[Table, int]],
    max_gap: dict[str, int],
) -> list[Read[TagT]]:
    """Requests covering every (tag, interval) pair; limits are per device id."""
    groups: dict[tuple[str, Table, float], list[TagT]] = defaultdict(list)
    for tag, every_s in tags:
        groups[(tag.device, tag.table, every_s)].append(tag)
    reads: list[Read[TagT]] = []
    for (device, table, every_s), members in groups.items():
        limit, gap = max_count[device][table], max_gap[device]
        current: Read[TagT] | None = None
        for tag in sorted(members, key=lambda t: (t.address, t.width)):
            end = tag.address + tag.width
            fits = current is not None and (
                tag.address - (current.start + current.count) <= gap
                and max(end, current.start + current.count) - current.start <= limit
            )
            if current is not None and fits:
                current.count = max(current.count, end - current.start)
                current.tags.append(tag)
            else:
                current = Read(device, table, tag.address, tag.width, every_s, [tag])
                reads.append(current)
    return reads
