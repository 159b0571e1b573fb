"""Late poll cycles: counted past a whole interval's slack, the first logged at once, then
one line at most a minute; and through ``andon edge``, a frozen agent (a starved CPU or a
disk that stalls it) says on its return how late its polling was."""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

import pytest

from edge.poll_timing import LateCycles
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from tests.helpers.plant import AndonProcess, write_yaml
from tests.helpers.waiting import wait_until


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_a_cycle_within_its_slack_is_not_late(caplog: pytest.LogCaptureFixture) -> None:
    late = LateCycles("plc:502", 0.05)
    assert late.slack_s == 0.1  # a short interval still allows 0.1 s of jitter
    late.started(due=10.0, now=10.1)
    assert late.total == 0
    assert _warnings(caplog) == []
    assert LateCycles("bus", 0.5).slack_s == 0.5


def test_the_first_late_cycle_is_logged_then_one_line_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    late = LateCycles("plc:502", 0.05)
    late.started(due=10.0, now=10.42)
    assert _warnings(caplog) == [
        "link plc:502: a poll cycle started 420 ms late (interval 50 ms); a press shorter "
        "than that may not be seen"
    ]
    late.started(due=20.0, now=20.3)
    late.started(due=30.0, now=30.9)
    late.started(due=40.0, now=40.05)  # on time: not counted
    assert late.total == 3
    assert len(_warnings(caplog)) == 1  # within the minute: counted, not logged
    late.started(due=71.0, now=71.2)
    assert _warnings(caplog)[1:] == [
        "link plc:502: 3 poll cycle(s) started late in the last 61 s, the worst by 900 ms "
        "(interval 50 ms)"
    ]
    assert late.total == 4


@pytest.mark.system
def test_an_agent_frozen_for_half_a_second_logs_its_late_poll_cycle(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, topic_prefix: str
) -> None:
    config = write_yaml(
        tmp_path / "edge.yaml",
        {
            "edge_id": "edge-1", "site": "p", "area": "a", "line": "l",
            "broker": {"host": broker.host, "port": broker.port, "topic_prefix": topic_prefix},
            "outbox": {"path": str(tmp_path / "outbox.sqlite3")},
            "poll_interval_s": 0.05,
            "devices": [{"kind": "modbus_tcp", "id": "plc1", "host": plc.host, "port": plc.port}],
            "buttons": [{"device": "plc1", "address": 0, "station": "st10", "call_type": "help"}],
        },
    )  # fmt: skip
    edge = AndonProcess("edge", config, tmp_path / "edge.log")
    edge.start()
    try:
        assert edge.process is not None
        wait_until(lambda: plc.requests[plc.unit] >= 20, what="the agent polling")
        os.kill(edge.process.pid, signal.SIGSTOP)
        time.sleep(0.5)
        os.kill(edge.process.pid, signal.SIGCONT)
        line = wait_until(
            lambda: [text for text in edge.log().splitlines() if "poll cycle started" in text],
            what="the late cycle's warning",
        )
    finally:
        edge.stop()
    assert f"link {plc.host}:{plc.port}: a poll cycle started" in line[0]
    late_ms = int(line[0].split("started ")[1].split(" ms late")[0])
    assert late_ms >= 400  # frozen for 500 ms; one interval of it may fall before the due time
