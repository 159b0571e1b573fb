"""A running ``andon edge`` takes a changed SPC rule file by itself: new limits chart the
next readings and decide the anomalies sent over MQTT; a wrong rule file is refused in one
log line naming it, and the last good limits go on charting."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from contract.wire import AnomalyEvent, MeasurementEvent, SpcPoint, Topics, parse_any_event
from rules.registers import ValueType
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from tests.helpers.plant import AndonProcess, write_yaml
from tests.helpers.waiting import wait_until

BORE_REGISTER = 100


def _rules(center: float, **specs: float) -> dict[str, Any]:
    """Test 1 alone: every reading more than 3 sigma (0.3) from ``center`` is an anomaly."""
    item = {"id": "bore-diameter", "chart": "imr", "rules": "none", "tests": {1: 3}}
    return {"characteristics": [item | {"center": center, "sigma": 0.1} | specs]}


def _edge(tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, prefix: str) -> Path:
    bore = {"name": "bore", "device": "plc1", "address": BORE_REGISTER, "type": "float32"}
    return write_yaml(
        tmp_path / "edge.yaml",
        {
            "edge_id": "edge-1",
            "site": "p",
            "area": "a",
            "line": "l",
            "broker": {"host": broker.host, "port": broker.port, "topic_prefix": prefix},
            "outbox": {"path": str(tmp_path / "outbox.sqlite3")},
            "poll_interval_s": 0.05,
            "devices": [{"kind": "modbus_tcp", "id": "plc1", "host": plc.host, "port": plc.port}],
            # Five readings a second, each one a point of the chart.
            "measurements": [bore | {"station": "st10", "every_s": 0.2}],
            "spc": {
                "rule_file": "rules.yaml",
                "characteristics": [{"characteristic": "bore-diameter", "measurement": "bore"}],
            },
        },
    )


class Seen:
    """The anomalies and SPC points a subscriber received, in order."""

    def __init__(self) -> None:
        self.anomalies: list[AnomalyEvent] = []
        self.points: list[SpcPoint] = []

    async def collect(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            if str(message.topic).endswith("/measurement"):
                event = MeasurementEvent.model_validate_json(message.payload)
                self.points += event.payload.points
            elif isinstance(anomaly := parse_any_event(message.payload), AnomalyEvent):
                self.anomalies.append(anomaly)

    def point(self, ready: Callable[[SpcPoint], bool]) -> SpcPoint | None:
        return next((point for point in self.points if ready(point)), None)


async def _wait(probe: Callable[[], Any], what: str) -> Any:
    return await asyncio.to_thread(wait_until, probe, what=what)


def _bore(plc: SimulatedPlc, value: float) -> None:
    plc.set_value("holding_register", BORE_REGISTER, value, ValueType.FLOAT32)


def _log_lines(edge: AndonProcess, *words: str) -> list[str]:
    return [line for line in edge.log().splitlines() if all(word in line for word in words)]


@pytest.mark.asyncio
async def test_a_changed_rule_file_takes_over_by_itself_and_a_wrong_one_is_refused(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, topic_prefix: str
) -> None:
    rules = write_yaml(tmp_path / "rules.yaml", _rules(center=10.0))
    path = _edge(tmp_path, broker, plc, topic_prefix)
    topics = Topics(topic_prefix)
    _bore(plc, 10.5)  # 5 sigma above the first file's center
    edge = AndonProcess("edge", path, tmp_path / "edge.log")
    seen = Seen()
    async with aiomqtt.Client(broker.host, broker.port) as client:
        await client.subscribe(topics.station_event("p", "a", "l", "+", "+"), qos=1)
        await client.subscribe(topics.measurement("p", "edge-1"), qos=1)
        collector = asyncio.create_task(seen.collect(client))
        edge.start()
        try:
            first = await _wait(lambda: seen.anomalies, "an anomaly under the first limits")
            assert first[0].payload.center == pytest.approx(10.0)

            write_yaml(rules, _rules(center=10.5))  # no signal: the file changed
            reloaded = functools.partial(_log_lines, edge, str(rules), "reloaded")
            assert len(await _wait(reloaded, "the reload logged with the rule file")) == 1
            # The same reading, charted against the new center, fails no test.
            point = await _wait(
                lambda: seen.point(lambda p: p.center == pytest.approx(10.5)), "a new point"
            )
            assert (point.value, point.tests) == (pytest.approx(10.5), [])
            await asyncio.to_thread(_bore, plc, 11.0)  # 5 sigma above the new center
            await _wait(
                lambda: [a for a in seen.anomalies if a.payload.center == pytest.approx(10.5)],
                "an anomaly under the new limits",
            )

            # A rule file backtest would refuse: the running limits stay.
            write_yaml(rules, _rules(center=10.0, lsl=10.4, usl=10.2))
            refused = functools.partial(_log_lines, edge, str(rules), "refused")
            (line,) = await _wait(refused, "the refusal logged with the rule file")
            assert f"{rules}:" in line
            assert "characteristics[0].usl: expected above lsl (10.4); got 10.2" in line
            await asyncio.to_thread(_bore, plc, 10.6)
            kept = await _wait(
                lambda: seen.point(lambda p: p.value == pytest.approx(10.6)), "a point after it"
            )
            assert (kept.center, kept.tests) == (pytest.approx(10.5), [])
            assert edge.process is not None
            assert edge.process.poll() is None
        finally:
            code = edge.stop()
            collector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await collector
    assert code == 0
    # Under the new limits the reading of 10.5 raised nothing; only 11.0 did.
    centers = {a.payload.value: a.payload.center for a in seen.anomalies}
    assert centers == pytest.approx({10.5: 10.0, 11.0: 10.5})
