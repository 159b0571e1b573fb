"""The hub's optional ``sparkplug:`` section: the hub as a Sparkplug B 3.0 host application.

```yaml
sparkplug:
  host_id: andon-hub            # its retained STATE: spBv1.0/STATE/andon-hub
  groups: [plant-north]         # the groups whose edge nodes it takes in
  measurements:                 # metric -> a station's measurement
    - {group: plant-north, node: press-node, device: press1, metric: Press/Force,
       line: line1, station: st10, measurement: force, unit: kN}
  calls:                        # Boolean metric -> a call on its rising edge
    - {group: plant-north, node: press-node, device: press1, metric: Alarm/Jam,
       line: line1, station: st10, call_type: maintenance}
```

``device`` left out names a metric of the node itself (NBIRTH/NDATA).
"""

from __future__ import annotations

from pydantic import Field

from contract.config.loading import Problem
from contract.config.models import Strict
from contract.wire import Name

MetricName = str
MAX_METRIC_NAME = 256


class MetricSource(Strict):
    """A metric of one edge node (or of one of its devices)."""

    group: Name
    node: Name
    device: Name | None = None
    metric: MetricName = Field(min_length=1, max_length=MAX_METRIC_NAME)
    line: Name
    station: Name

    def key(self) -> tuple[str, str, str | None, str]:
        return (self.group, self.node, self.device, self.metric)


class SparkplugMeasurement(MetricSource):
    """A numeric, Boolean or String metric taken in as the station's measurement."""

    measurement: Name
    unit: str | None = Field(default=None, max_length=32)


class SparkplugCall(MetricSource):
    """A Boolean metric whose rising edge (false to true) raises ``call_type``."""

    call_type: Name


class SparkplugHostConfig(Strict):
    host_id: Name
    groups: list[Name] = Field(min_length=1)
    measurements: list[SparkplugMeasurement] = Field(default_factory=list)
    calls: list[SparkplugCall] = Field(default_factory=list)


def sparkplug_problems(
    section: SparkplugHostConfig, stations: set[tuple[str, str]], call_types: list[str]
) -> list[Problem]:
    """Mappings to stations or call types the file does not have, from groups it does not
    take in, or of one metric twice."""
    problems: list[Problem] = []
    seen: set[tuple[str, str, str | None, str]] = set()
    entries: list[tuple[str, int, MetricSource]] = [
        ("measurements", i, entry) for i, entry in enumerate(section.measurements)
    ]
    entries += [("calls", i, entry) for i, entry in enumerate(section.calls)]
    for key, index, entry in entries:
        where = ("sparkplug", key, index)
        if entry.group not in section.groups:
            problem = f"group {entry.group!r} is not in sparkplug.groups"
            problems.append(((*where, "group"), problem))
        if (entry.line, entry.station) not in stations:
            problem = f"no station {entry.station!r} on line {entry.line!r}"
            problems.append(((*where, "station"), problem))
        if isinstance(entry, SparkplugCall) and entry.call_type not in call_types:
            problems.append(((*where, "call_type"), f"unknown call type {entry.call_type!r}"))
        if entry.key() in seen:
            problem = f"metric {entry.metric!r} of {entry.group}/{entry.node} is mapped twice"
            problems.append(((*where, "metric"), problem))
        seen.add(entry.key())
    return problems
