"""The hub's ``measurements:`` section: how measurement messages are taken in and kept,
and which readings are a station's quality counters.

```yaml
measurements:
  queue: 2000                     # messages waiting to be stored; beyond, new ones are dropped
  points_per_characteristic: 10000
  retention_days: 30
  quality:
    - {line: line1, station: st10, inspected: parts_made, defective: parts_bad,
       reworked: parts_reworked, wraps_at: 65536, defective_includes_reworked: false}
```
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from contract.config.loading import Problem
from contract.config.models import Strict
from contract.wire import Name

COUNTERS = ("inspected", "defective", "reworked")


class QualityCounters(Strict):
    """The readings of one station that count parts: each a measurement name of its edge.

    A counter that goes down was reset (a PLC restart sets it to 0): what it reads then
    is what it counted since. With ``wraps_at`` (65536 for a ``uint16``, 4294967296 for a
    ``uint32``) a drop from the upper half to the lower half is a wrap instead."""

    line: Name
    station: Name
    inspected: str | None = Field(default=None, min_length=1, max_length=64)
    defective: str | None = Field(default=None, min_length=1, max_length=64)
    reworked: str | None = Field(default=None, min_length=1, max_length=64)
    wraps_at: int | None = Field(default=None, ge=2)
    defective_includes_reworked: bool = Field(
        default=False,
        description="the defective counter counts the parts sent to rework too (they were "
        "rejected first); otherwise a part is counted defective or reworked, not both",
    )
    max_increment: int = Field(
        default=100_000,
        ge=1,
        description="a larger step between two readings is not counted (a counter replaced "
        "or preset), only taken as the new base",
    )

    @model_validator(mode="after")
    def _some_counter(self) -> Self:
        if not any(getattr(self, name) for name in COUNTERS):
            raise ValueError("name at least one of inspected, defective, reworked")
        return self

    def counters(self) -> dict[str, str]:
        """Measurement name -> counter kind."""
        return {name: kind for kind in COUNTERS if (name := getattr(self, kind)) is not None}


class MeasurementsConfig(Strict):
    queue: int = Field(
        default=2000, ge=1, le=1_000_000, description="messages waiting to be stored"
    )
    max_rows_per_transaction: int = Field(
        default=1000,
        ge=1,
        description="points and readings written in one transaction: a short write lock "
        "for calls to wait behind",
    )
    points_per_characteristic: int = Field(default=10_000, ge=1)
    retention_days: float = Field(default=30.0, gt=0)
    quality: list[QualityCounters] = Field(default_factory=list)


def measurement_problems(
    section: MeasurementsConfig, stations: set[tuple[str, str]]
) -> list[Problem]:
    """Quality counters of stations the file does not have, or named twice."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for index, entry in enumerate(section.quality):
        key = (entry.line, entry.station)
        where = ("measurements", "quality", index)
        if key not in stations:
            problem = f"no station {entry.station!r} on line {entry.line!r}"
            problems.append(((*where, "station"), problem))
        elif key in seen:
            problems.append(((*where, "station"), f"station {entry.station!r} named twice"))
        seen.add(key)
    return problems
