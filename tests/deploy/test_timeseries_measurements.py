"""Measurements and SPC points in the time-series export: a measurement message
published through a real Mosquitto into a real ``andon hub`` process ends up in a real
VictoriaMetrics with its values and tags; a full export queue or a listener that fell
behind drops and counts, per source."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from contract.netutil import free_port
from contract.wire import Topics, event_json
from hub.config.file import TimeseriesConfig
from hub.export.measurements import MeasurementSource, measurement_sources, reading_lines
from hub.export.timeseries import TimeseriesExporter
from hub.measurements.news import MeasurementNews
from hub.process.metrics import HubMetrics
from testbed.broker import MosquittoBroker
from testbed.victoria_metrics import VictoriaMetrics
from tests.helpers.deploy import exported, publish
from tests.helpers.hub import SITE, hub_settings
from tests.helpers.measurement_messages import EDGE, measurement_event
from tests.helpers.plant import AndonProcess, write_yaml
from tests.helpers.waiting import until, wait_until


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    with VictoriaMetrics(tmp_path / "victoria") as started:
        yield started


@pytest.fixture
def hub_process(
    tmp_path: Path, broker: MosquittoBroker, victoria: VictoriaMetrics, topic_prefix: str
) -> Iterator[AndonProcess]:
    settings = hub_settings(f"sqlite:///{tmp_path / 'hub.sqlite'}", broker_port=broker.port)
    settings["broker"]["topic_prefix"] = topic_prefix
    settings["api"] = {"port": free_port()}
    settings["timeseries"] = {"url": victoria.url, "flush_interval_s": 0.1}
    hub = AndonProcess("hub", write_yaml(tmp_path / "hub.yaml", settings), tmp_path / "hub.log")
    hub.start()
    try:
        wait_until(lambda: "subscribed at broker" in hub.log(), timeout=60, what="subscribed")
        yield hub
    finally:
        hub.stop()


def by_name(series: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["metric"]["measurement"]: s for s in series}


def test_a_measurement_message_through_mosquitto_and_the_hub_reaches_the_database(
    broker: MosquittoBroker, victoria: VictoriaMetrics, hub_process: AndonProcess,
    topic_prefix: str,
) -> None:  # fmt: skip
    topic = Topics(topic_prefix).measurement(SITE, EDGE)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    sent: list[int] = []

    def arrived() -> bool:
        # The measurement process subscribes on its own, without a kept session: messages
        # published before it is subscribed are not for it, so one goes each try.
        at = start + timedelta(seconds=len(sent))
        publish(broker, [(topic, event_json(measurement_event(len(sent) + 1, at=at)))])
        sent.append(int(at.timestamp() * 1000))
        return len(exported(victoria, "andon_spc_value")) == 2

    wait_until(arrived, timeout=60, what="the SPC points in VictoriaMetrics")
    wait_until(lambda: len(exported(victoria, '{__name__=~"andon_measurement.*"}')) == 4)
    readings = by_name(exported(victoria, '{__name__=~"andon_measurement.*"}'))
    place = {"site": SITE, "area": "assembly", "line": "line1", "station": "st10"}
    assert readings["bore_mm"]["metric"] == place | {
        "__name__": "andon_measurement_value", "measurement": "bore_mm", "unit": "mm",
    }  # fmt: skip
    assert readings["parts_made"]["metric"]["__name__"] == "andon_measurement_value"
    assert "unit" not in readings["parts_made"]["metric"]
    assert readings["recipe"]["metric"] == place | {
        "__name__": "andon_measurement_text_count", "measurement": "recipe", "text": "A-17",
    }  # fmt: skip
    expected = {"bore_mm": 10.02, "parts_made": 1234.0, "clamp_closed": 1.0, "recipe": 1.0}
    for name, value in expected.items():
        series = readings[name]
        assert set(series["values"]) == {value}, name
        assert set(series["timestamps"]) <= set(sent), name
    fields = {
        (s["metric"]["characteristic"], s["metric"]["__name__"]): set(s["values"])
        for s in exported(victoria, '{__name__=~"andon_spc_.*"}')
    }
    assert fields == {
        ("bore", "andon_spc_value"): {10.02}, ("bore", "andon_spc_center"): {10.0},
        ("bore", "andon_spc_lcl"): {9.7}, ("bore", "andon_spc_ucl"): {10.3},
        ("bore", "andon_spc_subgroup"): {7.0}, ("bore", "andon_spc_failed_tests"): {0.0},
        ("flatness", "andon_spc_value"): {14.5}, ("flatness", "andon_spc_center"): {8.0},
        ("flatness", "andon_spc_lcl"): {2.0}, ("flatness", "andon_spc_ucl"): {14.0},
        ("flatness", "andon_spc_subgroup"): {3.0}, ("flatness", "andon_spc_failed_tests"): {2.0},
    }  # fmt: skip
    (flatness,) = exported(victoria, 'andon_spc_value{characteristic="flatness"}')
    assert flatness["metric"] == place | {
        "__name__": "andon_spc_value", "characteristic": "flatness", "chart": "xbar",
        "measurement": "flatness_um",
    }  # fmt: skip


def dropped(metrics: HubMetrics, source: str) -> float:
    value: float = metrics.timeseries_dropped.labels(source)._value.get()
    return value


@pytest.mark.asyncio
async def test_a_full_queue_drops_and_counts_per_source() -> None:
    metrics = HubMetrics()
    # Nothing listens at that address; the writer is not even started: the queue only fills.
    settings = TimeseriesConfig(url=f"http://127.0.0.1:{free_port()}", queue_size=4)
    exporter = TimeseriesExporter(settings=settings, metrics=metrics)
    news = MeasurementNews(asyncio.get_running_loop())
    tasks = [asyncio.create_task(s.run(exporter.offer)) for s in measurement_sources(news, metrics)]
    try:
        await until(
            lambda: news.listening, timeout=30
        )  # both tasks reached their listen() together
        now = datetime.now(UTC)
        six = [{"station": "st10", "name": f"m{n}", "value": n} for n in range(6)]
        news.announce(measurement_event(1, at=now, readings=six, points=[]))
        await until(lambda: dropped(metrics, "measurements") == 2, timeout=30)
        news.announce(measurement_event(2, at=now, readings=[]))  # the two SPC points
        await until(lambda: dropped(metrics, "spc") == 2, timeout=30)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert dropped(metrics, "measurements") == 2
    assert exporter._queue.qsize() == 4


@pytest.mark.asyncio
async def test_messages_a_source_missed_while_behind_are_counted_as_dropped() -> None:
    metrics = HubMetrics()
    settings = TimeseriesConfig(url=f"http://127.0.0.1:{free_port()}", queue_size=100)
    exporter = TimeseriesExporter(settings=settings, metrics=metrics)
    news = MeasurementNews(asyncio.get_running_loop())
    source = MeasurementSource(
        name="measurements", news=news, lines=reading_lines, metrics=metrics, size=1
    )
    task = asyncio.create_task(source.run(exporter.offer))
    try:
        await until(lambda: news.listening, timeout=30)
        now = datetime.now(UTC)
        # Announced on the loop in one go: the source's listener keeps only the newest.
        news.announce(*(measurement_event(seq, at=now, points=[]) for seq in (1, 2, 3)))
        await until(lambda: exporter._queue.qsize() == 4, timeout=30)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert dropped(metrics, "measurements") == 2
