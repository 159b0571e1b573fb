"""SPC on the measurements of Sparkplug nodes: the characteristics of ``sparkplug.spc``.

Each station with bindings gets the edge's own ``SpcMonitor`` (``rules/spc/monitor.py``),
fed with the mapped values of every data message (NDATA, DDATA) taken in order: each
value one reading, as one poll's reading is at an edge. A birth is not charted: it
repeats the values a node has (and comes again at every rebirth), it measures nothing
new. Each charted subgroup becomes a point of the message's measurement event (stored
with the points of our edges), and a point that failed a test an anomaly event of the
station, taken in through the calls' intake as our edges' anomalies are.

The charts live as long as the section: a reload that changes it (or its rule file)
starts them again, one that does not keeps them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from contract.wire import AnomalyEvent, AnomalyPayload, MeasuredValue, make_event_id
from hub.config.file import HubConfig
from hub.config.sparkplug import SparkplugSpc
from rules.spc.bindings import SpcBinding

if TYPE_CHECKING:  # the SPC core (numpy) is loaded only by a hub that charts metrics
    from rules.spc.monitor import Anomaly, SpcMonitor

Place = tuple[str, str]
"""(line, station)"""


@dataclass(frozen=True)
class StationAnomaly:
    """An anomaly of a station's chart."""

    line: str
    station: str
    anomaly: Anomaly


@dataclass
class Charted:
    """What one message charted: its points (by line, as ``SpcPoint`` fields) and anomalies."""

    points: dict[str, list[dict[str, Any]]]
    anomalies: list[StationAnomaly]


class SparkplugCharts:
    """The charts of every station ``sparkplug.spc`` binds."""

    def __init__(self) -> None:
        self._section: SparkplugSpc | None = None
        self._monitors: dict[Place, SpcMonitor] = {}
        self._latest: dict[Place, dict[str, MeasuredValue]] = {}

    def _start(self, section: SparkplugSpc | None) -> None:
        self._section = section
        self._monitors, self._latest = {}, {}
        if section is None:
            return
        from rules.spc.monitor import SpcMonitor  # numpy: only when charting

        rules = section.rules()
        places = {(b.line, b.station) for b in section.characteristics}
        for line, station in sorted(places):
            bindings = [
                b for b in section.characteristics if (b.line, b.station) == (line, station)
            ]
            names = {name: station for b in bindings for _, name in b.names()}
            self._monitors[(line, station)] = SpcMonitor(_Bindings(bindings), rules, stations=names)

    def chart(
        self,
        config: HubConfig,
        readings: Mapping[Place, Mapping[str, MeasuredValue]],
        units: Mapping[tuple[str, str, str], str],
    ) -> Charted:
        """The points and anomalies of one message's ``readings`` (per station, by
        measurement name); ``units`` holds each (line, station, measurement)'s unit."""
        section = config.sparkplug.spc if config.sparkplug is not None else None
        if section != self._section:
            self._start(section)
        charted = Charted(points={}, anomalies=[])
        for place, fresh in readings.items():
            monitor = self._monitors.get(place)
            if monitor is None:
                continue
            latest = self._latest.setdefault(place, {})
            latest.update(fresh)
            cycle = monitor.cycle(fresh, latest)
            line, station = place
            for row in cycle.points:
                point = dict(zip(_POINT_KEYS, row, strict=True))
                unit = units.get((line, station, str(point["measurement"])))
                if unit is not None:
                    point["unit"] = unit
                charted.points.setdefault(line, []).append(point)
            charted.anomalies += [StationAnomaly(line, station, a) for a in cycle.anomalies]
        return charted


_POINT_KEYS = (
    "station", "characteristic", "chart", "measurement", "subgroup", "value", "center",
    "lcl", "ucl", "tests",
)  # fmt: skip


@dataclass(frozen=True)
class _Bindings:
    """One station's bindings, as ``SpcMonitor`` takes an edge's section."""

    characteristics: Sequence[SpcBinding]


def anomaly_event(
    config: HubConfig, *, area: str, edge_id: str, seq: int, ts: datetime, found: StationAnomaly
) -> AnomalyEvent:
    """The anomaly event of ``found``, as an edge sends one."""
    binding, signal = found.anomaly.binding, found.anomaly.signal
    payload = AnomalyPayload(
        characteristic=binding.characteristic, chart=found.anomaly.chart,
        measurement=binding.measurement or binding.defectives or "",
        tests=list(signal.tests), value=signal.value, center=signal.center,
        lcl=signal.lcl, ucl=signal.ucl, subgroup=signal.subgroup,
    )  # fmt: skip
    return AnomalyEvent(
        event_id=make_event_id(edge_id, seq), edge_id=edge_id, seq=seq, ts=ts,
        site=config.site, area=area, line=found.line, station=found.station,
        kind="anomaly", payload=payload,
    )  # fmt: skip
