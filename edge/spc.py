"""SPC at the edge: measurements of one poll cycle in, anomalies out.

Each binding of the ``spc:`` section feeds one ``OnlineChart``: every fresh reading
(subgroups of consecutive readings), the reading at each finished part (``part_done``
rising or counting up), or the counters' increase every ``per_parts`` parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from contract.wire import MeasuredValue
from edge.spc_config import SpcBinding, SpcConfig
from rules.spc.online import OnlineChart, Signal
from rules.spc.rulefile import RuleFile


@dataclass(frozen=True)
class Anomaly:
    binding: SpcBinding
    chart: str
    signal: Signal


def _number(value: MeasuredValue | None) -> float | None:
    if value is None or isinstance(value, str):
        return None
    return float(value)


class _Feed:
    """One binding's chart and what it last saw of its part and counter inputs."""

    def __init__(self, binding: SpcBinding, chart: OnlineChart) -> None:
        self.binding = binding
        self.chart = chart
        self.last_part: float | None = None
        self.base: tuple[float, float] | None = None  # counters at the subgroup's start

    def step(
        self, fresh: Mapping[str, MeasuredValue], latest: Mapping[str, MeasuredValue]
    ) -> list[Signal]:
        b = self.binding
        if b.defectives is not None:
            return self._counters(latest)
        assert b.measurement is not None
        if b.part_done is None:
            value = _number(fresh.get(b.measurement))
            signal = self.chart.add_value(value) if value is not None else None
            return [signal] if signal else []
        part = _number(fresh.get(b.part_done))
        if part is None:
            return []
        finished = self.last_part is not None and part > self.last_part
        self.last_part = part
        value = _number(latest.get(b.measurement))
        if not finished or value is None:
            return []
        signal = self.chart.add_value(value)
        return [signal] if signal else []

    def _counters(self, latest: Mapping[str, MeasuredValue]) -> list[Signal]:
        b = self.binding
        assert b.defectives is not None
        assert b.inspected is not None
        assert b.per_parts
        bad, made = _number(latest.get(b.defectives)), _number(latest.get(b.inspected))
        if bad is None or made is None:
            return []
        if self.base is None or made < self.base[1] or bad < self.base[0]:
            self.base = (bad, made)  # first reading, or a counter was reset
            return []
        if made - self.base[1] < b.per_parts:
            return []
        signal = self.chart.add_counts(bad - self.base[0], made - self.base[1])
        self.base = (bad, made)
        return [signal] if signal else []


class SpcMonitor:
    """Every bound characteristic of one edge."""

    def __init__(self, config: SpcConfig, rule_file: RuleFile) -> None:
        characteristics = {item.id: item for item in rule_file.characteristics}
        self._feeds = [
            _Feed(
                binding,
                OnlineChart(
                    characteristics[binding.characteristic], subgroup_size=binding.subgroup_size
                ),
            )
            for binding in config.characteristics
        ]
        self.inputs = {
            name
            for b in config.characteristics
            for name in (b.measurement, b.part_done, b.defectives, b.inspected)
            if name is not None
        }

    def cycle(
        self, fresh: Mapping[str, MeasuredValue], latest: Mapping[str, MeasuredValue]
    ) -> list[Anomaly]:
        """Anomalies found in this poll cycle: ``fresh`` holds readings just taken,
        ``latest`` the last value of every measurement."""
        if not self.inputs.intersection(fresh):
            return []
        return [
            Anomaly(feed.binding, feed.chart.characteristic.chart, signal)
            for feed in self._feeds
            for signal in feed.step(fresh, latest)
        ]
