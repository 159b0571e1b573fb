"""Characteristics charted live: measurements of one cycle in, charted points and anomalies out.

An edge runs one ``SpcMonitor`` over its measurements (a cycle: one poll); the hub one
per station whose Sparkplug metrics it charts (a cycle: one node's message).

Each binding of the ``spc:`` section feeds one ``OnlineChart``: every fresh reading
(subgroups of consecutive readings), the reading at each finished part (``part_done``
rising or counting up), or the counters' increase every ``per_parts`` parts. Every
subgroup charted against limits becomes a point (for the hub's charts); a point that
failed a test is also an anomaly (an event of its own).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from contract.wire import MeasuredValue
from rules.spc.bindings import SpcBinding
from rules.spc.online import OnlineChart, Signal
from rules.spc.rule_sets import RuleSet
from rules.spc.rulefile import Characteristic, RuleFile
from rules.spc.streaming import StreamingTests

# (station, characteristic, chart, measurement, subgroup, value, center, lcl, ucl, tests)
PointRow = tuple[str, str, str, str, int, float, float, float, float, tuple[int, ...]]


class Bindings(Protocol):
    """A section that binds measurements to characteristics (an edge's ``spc``)."""

    @property
    def characteristics(self) -> Sequence[SpcBinding]: ...


@dataclass(frozen=True)
class Anomaly:
    binding: SpcBinding
    chart: str
    signal: Signal


@dataclass
class SpcCycle:
    """What one poll cycle charted: every new point, and the anomalies among them."""

    points: list[PointRow] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)


def _number(value: MeasuredValue | None) -> float | None:
    """A reading as a number to chart; None for none, a text, or a float register
    holding NaN or infinity (a sensor fault or an unset value, not a measurement: charted,
    it would fire test 1 and go out as an anomaly no one can read)."""
    if value is None or isinstance(value, str):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


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


class _IndividualsGroup:
    """Individuals charts with known limits whose readings arrive together (one device,
    table and interval): one vectorised ``StreamingTests`` for all of them.

    A member without a fresh reading in a cycle where others have one (its tag was
    refused) gets NaN, which breaks its own runs and no one else's."""

    def __init__(
        self, members: list[tuple[SpcBinding, Characteristic]], stations: Mapping[str, str]
    ) -> None:
        first = members[0][1]
        self.bindings = [binding for binding, _ in members]
        self.names = [str(binding.measurement) for binding in self.bindings]
        self.center = np.array([float(c.center or 0.0) for _, c in members])
        sigma = np.array([float(c.sigma or 1.0) for _, c in members])
        self.lcl = self.center - first.nsigmas * sigma
        self.ucl = self.center + first.nsigmas * sigma
        rules = RuleSet.preset(first.rules, nsigmas=first.nsigmas, overrides=first.tests)
        self.tests = StreamingTests(center=self.center, sigma=sigma, rules=rules)
        self.subgroups = np.zeros(len(members), dtype=np.int64)
        # What every point of a member repeats, as plain Python values built once.
        self._fixed = [
            (stations.get(name, ""), b.characteristic, "imr", name, c, lo, hi)
            for b, name, c, lo, hi in zip(
                self.bindings, self.names, self.center.tolist(), self.lcl.tolist(),
                self.ucl.tolist(), strict=True,
            )
        ]  # fmt: skip
        self._columns = tuple(list(column) for column in zip(*self._fixed, strict=True))

    def step(self, fresh: Mapping[str, MeasuredValue], out: SpcCycle) -> None:
        values = list(map(fresh.get, self.names))
        if values.count(None) == len(values):
            return
        x = _numbers(values)
        taken = ~np.isnan(x)
        self.subgroups += taken
        flags = self.tests.update(x)
        failed: dict[int, tuple[int, ...]] = {}
        if flags:
            for i in np.flatnonzero(np.logical_or.reduce(list(flags.values()))).tolist():
                failed[i] = tuple(number for number, flag in sorted(flags.items()) if flag[i])
        if taken.all():
            # The usual cycle, every member read: the points' tuples built column-wise.
            tests: list[tuple[int, ...]] = [()] * len(self.names)
            for i, failed_tests in failed.items():
                tests[i] = failed_tests
            stations, names, charts, measurements, centers, lcls, ucls = self._columns
            out.points += zip(
                stations, names, charts, measurements, self.subgroups.tolist(), x.tolist(),
                centers, lcls, ucls, tests, strict=True,
            )  # fmt: skip
            index = list(failed)
        else:
            index = np.flatnonzero(taken).tolist()
            subgroups, values = self.subgroups[index].tolist(), x[index].tolist()
            out.points += map(
                _point, [self._fixed[i] for i in index], subgroups, values,
                [failed.get(i, ()) for i in index],
            )  # fmt: skip
            index = [i for i in index if i in failed]
        for i in index:
            _, _, chart, _, center, lcl, ucl = self._fixed[i]
            signal = Signal(int(self.subgroups[i]), float(x[i]), center, lcl, ucl, failed[i])
            out.anomalies.append(Anomaly(self.bindings[i], chart, signal))


def _numbers(values: list[MeasuredValue | None]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Readings as numbers, NaN where there is none (no reading, a text, or not finite:
    as ``_number`` takes them)."""
    if str not in set(map(type, values)):
        # None becomes NaN and booleans 0 and 1, as ``_number`` takes them.
        x = np.array(values, dtype=np.float64)
        x[np.isinf(x)] = np.nan
        return x
    return np.array([np.nan if (v := _number(value)) is None else v for value in values])


def _point(
    fixed: tuple[str, str, str, str, float, float, float],
    subgroup: int,
    value: float,
    tests: tuple[int, ...],
) -> PointRow:
    station, name, chart, measurement, center, lcl, ucl = fixed
    return (station, name, chart, measurement, subgroup, value, center, lcl, ucl, tests)


def _groupable(binding: SpcBinding, characteristic: Characteristic) -> bool:
    return (
        characteristic.chart == "imr"
        and binding.part_done is None
        and characteristic.center is not None
        and characteristic.sigma is not None
    )


class SpcMonitor:
    """Every bound characteristic of one edge (at the hub: of one station).

    ``read_together`` maps a measurement to a key shared by the measurements that are
    always read in the same cycle (device, table, interval); individuals charts with
    known limits on one key are evaluated together, as arrays. ``stations`` maps a
    measurement to its station, which every point names."""

    def __init__(
        self,
        config: Bindings,
        rule_file: RuleFile,
        read_together: Mapping[str, Hashable] | None = None,
        *,
        stations: Mapping[str, str] | None = None,
    ) -> None:
        characteristics = {item.id: item for item in rule_file.characteristics}
        groups: dict[Hashable, list[tuple[SpcBinding, Characteristic]]] = defaultdict(list)
        self._feeds = []
        for binding in config.characteristics:
            item = characteristics[binding.characteristic]
            if read_together is not None and _groupable(binding, item):
                key = (read_together[str(binding.measurement)], item.rules, item.nsigmas)
                groups[(*key, tuple(sorted(item.tests.items())))].append((binding, item))
            else:
                chart = OnlineChart(item, subgroup_size=binding.subgroup_size)
                self._feeds.append(_Feed(binding, chart))
        self._stations = dict(stations or {})
        self._groups = [_IndividualsGroup(members, self._stations) for members in groups.values()]
        self.inputs = {
            name
            for b in config.characteristics
            for name in (b.measurement, b.part_done, b.defectives, b.inspected)
            if name is not None
        }

    def cycle(
        self, fresh: Mapping[str, MeasuredValue], latest: Mapping[str, MeasuredValue]
    ) -> SpcCycle:
        """Points charted and anomalies found in this poll cycle: ``fresh`` holds readings
        just taken, ``latest`` the last value of every measurement."""
        out = SpcCycle()
        if not self.inputs.intersection(fresh):
            return out
        for group in self._groups:
            group.step(fresh, out)
        for feed in self._feeds:
            b, chart = feed.binding, feed.chart.characteristic.chart
            source = b.measurement or b.defectives or ""
            for s in feed.step(fresh, latest):
                out.points.append(
                    (self._stations.get(source, ""), b.characteristic, chart, source,
                     s.subgroup, s.value, s.center, s.lcl, s.ucl, s.tests)
                )  # fmt: skip
                if s.tests:
                    out.anomalies.append(Anomaly(b, chart, s))
        return out
