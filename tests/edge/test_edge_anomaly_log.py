"""The log's account of SPC anomalies: the first at once, then one summary line at most
every few seconds, however many charts fire."""

from __future__ import annotations

import logging

import pytest

from edge.recorder import AnomalyLog
from rules.spc.bindings import SpcBinding
from rules.spc.monitor import Anomaly
from rules.spc.online import Signal


def _anomaly(name: str, subgroup: int, tests: tuple[int, ...] = (1,)) -> Anomaly:
    binding = SpcBinding(characteristic=name, measurement=f"m_{name}")
    return Anomaly(binding, "imr", Signal(subgroup, 1040.0, 1000.0, 970.0, 1030.0, tests))


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "edge.recorder"]


def test_the_first_anomaly_is_logged_at_once_and_later_ones_summed_up_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="edge.recorder")
    anomalies = AnomalyLog(every_s=10.0)
    anomalies.add([_anomaly("bore", 3, (1, 5))], now=100.0)
    assert _lines(caplog) == [
        "SPC: 1 subgroup(s) failed tests: bore (imr) tests [1, 5] at subgroup 3"
    ]
    for second in range(1, 10):  # a burst within the interval: counted, not written
        anomalies.add(
            [_anomaly(f"c{second}", second), _anomaly(f"d{second}", second)], 100.0 + second
        )
    assert len(_lines(caplog)) == 1
    anomalies.add([_anomaly("late", 11)], now=110.5)
    summary = _lines(caplog)[1]
    assert summary.startswith("SPC: 19 subgroup(s) failed tests in the last 10 s: c1 (imr)")
    assert "d2 (imr) tests [1] at subgroup 2" in summary
    assert summary.endswith(" and 14 more")  # five named, the rest counted


def test_what_waits_is_written_at_a_stop_and_nothing_when_nothing_waits(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="edge.recorder")
    anomalies = AnomalyLog(every_s=10.0)
    anomalies.flush(now=5.0)
    assert _lines(caplog) == []
    anomalies.add([_anomaly("bore", 1)], now=5.0)
    anomalies.add([_anomaly("bore", 2)], now=6.0)
    anomalies.flush(now=7.0)
    assert _lines(caplog)[1] == (
        "SPC: 1 subgroup(s) failed tests in the last 2 s: bore (imr) tests [1] at subgroup 2"
    )
    anomalies.flush(now=8.0)
    assert len(_lines(caplog)) == 2
