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
  spc:                          # characteristics charted from mapped measurements
    rule_file: press-rules.yaml   # an SPC rule file, relative to the hub file
    characteristics:
      - {line: line1, station: st10, characteristic: press-force, measurement: force}
```

``device`` left out names a metric of the node itself (NBIRTH/NDATA). A binding of
``spc`` takes the keys of an edge's (``rules/spc/bindings.py``) and the station whose
mapped measurements it names.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, PrivateAttr

from contract.config.loading import ConfigInvalid, ConfigIssue, Problem, issue_at, load_model
from contract.config.models import Strict
from contract.config.yaml_source import YamlDocument
from contract.wire import Name
from rules.spc.bindings import SpcBinding, mismatches
from rules.spc.rulefile import RuleFile

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


class SparkplugSpcBinding(SpcBinding):
    """A characteristic fed by measurements of one station, mapped in ``measurements``."""

    line: Name
    station: Name

    def names(self) -> list[tuple[str, str]]:
        """(key, measurement) of each measurement it names."""
        keys = ("measurement", "part_done", "defectives", "inspected")
        return [(key, name) for key in keys if (name := getattr(self, key)) is not None]


class SparkplugSpc(Strict):
    """An SPC rule file (relative to the hub file) and the stations' measurements that
    feed its characteristics."""

    rule_file: Path
    characteristics: list[SparkplugSpcBinding] = Field(min_length=1)
    # The rule file as read when the hub file was checked (as an edge's ``spc``): the
    # host charts with that reading, and a changed rule file makes the sections differ.
    _rules: RuleFile | None = PrivateAttr(default=None)

    def with_rules(self, rules: RuleFile) -> SparkplugSpc:
        copy = self.model_copy()
        copy._rules = rules
        return copy

    def rules(self) -> RuleFile:
        """The rule file as checked, or read now for a section made without a check."""
        return self._rules if self._rules is not None else load_model(self.rule_file, RuleFile)


class SparkplugHostConfig(Strict):
    host_id: Name
    groups: list[Name] = Field(min_length=1)
    measurements: list[SparkplugMeasurement] = Field(default_factory=list)
    calls: list[SparkplugCall] = Field(default_factory=list)
    spc: SparkplugSpc | None = None


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
    if section.spc is not None:
        problems += _spc_problems(section, stations)
    return problems


def _spc_problems(section: SparkplugHostConfig, stations: set[tuple[str, str]]) -> list[Problem]:
    """Bindings to stations the file does not have, or to measurements no metric maps."""
    assert section.spc is not None
    mapped = {(m.line, m.station, m.measurement) for m in section.measurements}
    problems: list[Problem] = []
    for index, binding in enumerate(section.spc.characteristics):
        where = ("sparkplug", "spc", "characteristics", index)
        if (binding.line, binding.station) not in stations:
            problem = f"no station {binding.station!r} on line {binding.line!r}"
            problems.append(((*where, "station"), problem))
            continue
        where_station = f"station {binding.station!r} on line {binding.line!r}"
        problems += [
            ((*where, key), f"no metric is mapped to measurement {name!r} of {where_station}")
            for key, name in binding.names()
            if (binding.line, binding.station, name) not in mapped
        ]
    return problems


def with_spc_rules(
    doc: YamlDocument, section: SparkplugHostConfig
) -> tuple[SparkplugHostConfig, list[ConfigIssue]]:
    """``section`` with its SPC rule file read (relative to the hub file ``doc``) and
    checked against its bindings; the errors of the rule file and of bindings that do not
    fit its charts, each at its line."""
    if section.spc is None:
        return section, []
    spc = section.spc.model_copy(update={"rule_file": doc.path.parent / section.spc.rule_file})
    try:
        rules = load_model(spc.rule_file, RuleFile)
    except ConfigInvalid as exc:
        return section, sorted(exc.issues, key=lambda issue: issue.line)
    issues = [
        issue_at(doc, ("sparkplug", "spc", "characteristics", index, "characteristic"), message)
        for index, message in mismatches(rules, spc.characteristics, spc.rule_file.name)
    ]
    return section.model_copy(update={"spc": spc.with_rules(rules)}), issues
