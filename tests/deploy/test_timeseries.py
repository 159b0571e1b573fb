"""The hub's time-series export against a real VictoriaMetrics, read back through its
export API: call events with their durations, a bounded queue whose drops are counted,
retries while the database is away, and every query of the Grafana dashboard."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from hub.access.permissions import Role
from hub.config.file import TimeseriesConfig, load_hub_config
from hub.export.timeseries import TimeseriesExporter, call_point, line_protocol
from hub.measurements.news import MeasurementNews
from hub.process.app import create_app
from hub.process.metrics import HubMetrics
from testbed.victoria_metrics import VictoriaMetrics
from tests.helpers.deploy import exported
from tests.helpers.hub import HubUnderTest, hub_settings
from tests.helpers.measurement_messages import measurement_event
from tests.helpers.plant import write_yaml


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    with VictoriaMetrics(tmp_path / "victoria") as started:
        yield started


async def eventually(vm: VictoriaMetrics, match: str, count: int) -> list[dict[str, Any]]:
    """The series once ``count`` of them are there (points become visible within a second)."""
    async with asyncio.timeout(30):
        # Polling another process's HTTP API: there is no event to wait on.
        while len(series := await asyncio.to_thread(exported, vm, match)) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
    return series


@pytest_asyncio.fixture
async def hub(tmp_path: Path, victoria: VictoriaMetrics) -> AsyncIterator[HubUnderTest]:
    settings = hub_settings(f"sqlite:///{tmp_path / 'hub.sqlite'}")
    settings["timeseries"] = {"url": victoria.url, "flush_interval_s": 0.1}
    config_path = write_yaml(tmp_path / "hub.yaml", settings)
    app = create_app(load_hub_config(config_path), config_path=config_path)
    async with app.router.lifespan_context(app):
        yield HubUnderTest(app, config_path)


@pytest.mark.asyncio
async def test_call_events_reach_the_database_with_their_durations(
    hub: HubUnderTest, victoria: VictoriaMetrics
) -> None:
    where = {"area": "assembly", "line": "line1", "station": "st20", "call_type": "maintenance"}
    async with hub.client(Role.ADMIN) as api:
        raised = (await api.post("/api/calls", json=where)).json()
        await api.post(f"/api/calls/{raised['id']}/acknowledge")
        await api.post(f"/api/calls/{raised['id']}/resolve", json={"reason_code": "adjusted"})
    counts = await eventually(victoria, "andon_call_count", 3)
    actions = {series["metric"]["action"] for series in counts}
    assert actions == {"raised", "acknowledged", "resolved"}
    assert all(series["metric"]["line"] == "line1" for series in counts)
    assert all(series["metric"]["call_type"] == "maintenance" for series in counts)
    call = hub.store.get_call(raised["id"])
    assert call.acknowledged_at is not None
    assert call.resolved_at is not None
    (to_ack,) = await eventually(victoria, 'andon_call_to_acknowledge_s{action="acknowledged"}', 1)
    expected = call.durations(call.acknowledged_at).to_acknowledge_s
    assert expected is not None
    assert to_ack["values"] == [pytest.approx(expected, abs=0.001)]
    assert to_ack["timestamps"] == [int(call.acknowledged_at.timestamp() * 1000)]
    (to_resolve,) = await eventually(victoria, "andon_call_to_resolve_s", 1)
    assert to_resolve["metric"]["action"] == "resolved"
    (unattended,) = await eventually(victoria, "andon_call_unattended_s", 1)
    unattended_s = call.durations(call.resolved_at).unattended_s
    assert unattended["values"] == [pytest.approx(unattended_s, abs=0.001)]
    metrics = hub.app.state.metrics.render().decode()
    assert "andon_hub_timeseries_written_total 3.0" in metrics


@pytest.mark.asyncio
async def test_a_call_read_back_after_it_moved_on_gives_each_action_what_was_known_then(
    hub: HubUnderTest,
) -> None:
    """The export reads a call after its change was announced; by then it may be resolved
    (on a busy hub the acknowledgement's point once carried the time to resolve)."""
    where = {"area": "assembly", "line": "line1", "station": "st20", "call_type": "maintenance"}
    async with hub.client(Role.ADMIN) as api:
        raised = (await api.post("/api/calls", json=where)).json()
        await api.post(f"/api/calls/{raised['id']}/acknowledge")
        await api.post(f"/api/calls/{raised['id']}/resolve", json={"reason_code": "adjusted"})
    call = hub.store.get_call(raised["id"])
    assert call.acknowledged_at is not None
    assert call.resolved_at is not None
    fields = {
        action: call_point(call, action, now=call.resolved_at).split(" ")[-2].split(",")
        for action in ("raised", "acknowledged", "resolved")
    }
    assert [field.split("=")[0] for field in fields["raised"]] == ["count"]
    assert [field.split("=")[0] for field in fields["acknowledged"]] == [
        "count",
        "to_acknowledge_s",
    ]
    names = [field.split("=")[0] for field in fields["resolved"]]
    assert names == ["count", "to_acknowledge_s", "to_resolve_s", "unattended_s"]


def point(n: int) -> str:
    at = datetime(2026, 1, 5, 6, 0, n, tzinfo=UTC)
    return line_protocol("andon_test", tags={"n": str(n)}, fields={"value": n}, at=at)


@pytest.mark.asyncio
async def test_a_full_queue_drops_and_counts_and_a_database_that_was_away_gets_the_rest(
    tmp_path: Path,
) -> None:
    victoria = VictoriaMetrics(tmp_path / "victoria")  # its port is chosen, nothing listens yet
    metrics = HubMetrics()
    settings = TimeseriesConfig(url=victoria.url, queue_size=5, flush_interval_s=0.1, timeout_s=2)
    exporter = TimeseriesExporter(settings=settings, metrics=metrics)
    exporter.offer("test", [point(n) for n in range(8)])  # returns at once, whatever happens
    assert metrics.timeseries_dropped.labels("test")._value.get() == 3
    writer = asyncio.create_task(exporter.run())
    try:
        async with asyncio.timeout(30):
            while metrics.timeseries_write_failures._value.get() < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        await asyncio.to_thread(victoria.start)
        series = await eventually(victoria, "andon_test_value", 5)
    finally:
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
        victoria.stop()
    assert sorted(int(s["metric"]["n"]) for s in series) == [0, 1, 2, 3, 4]
    assert metrics.timeseries_written._value.get() == 5


@pytest.mark.asyncio
async def test_the_writer_stops_when_cancelled_as_a_point_arrives(tmp_path: Path) -> None:
    """On Python 3.11 ``asyncio.wait_for`` returns a result that is ready when its cancel
    lands, and forgets the cancel: the hub's stop then waited for ever (once in about ten
    stops in the tests). The cancel here lands exactly then."""
    victoria = VictoriaMetrics(tmp_path / "victoria")  # nothing listens: writes would fail
    settings = TimeseriesConfig(url=victoria.url, flush_interval_s=30, timeout_s=1)
    exporter = TimeseriesExporter(settings=settings, metrics=HubMetrics())
    writer = asyncio.create_task(exporter.run())
    exporter.offer("test", [point(0)])
    await asyncio.sleep(0.2)  # the writer took it and waits for more to fill its batch
    exporter.offer("test", [point(1)])
    writer.cancel()
    async with asyncio.timeout(10):
        await asyncio.gather(writer, return_exceptions=True)
    assert writer.cancelled()


DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana" / "dashboards" / "andon.json"
# What Grafana puts in for its macros and an "All" selection of the variables.
GRAFANA_MACROS = {
    "$__interval": "1m",
    "$__range": "1h",
    "$line": ".*",
    "$call_type": ".*",
    "$characteristic": ".*",
    "$measurement": ".*",
}


def dashboard_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        (f"{panel['title']} {target['refId']}", target["expr"])
        for panel in dashboard["panels"]
        for target in panel["targets"]
    ]


def grafana_query(vm: VictoriaMetrics, expr: str) -> list[dict[str, Any]]:
    for macro, value in GRAFANA_MACROS.items():
        expr = expr.replace(macro, value)
    end = datetime.now(UTC).timestamp() + 60
    answer = httpx.get(
        f"{vm.url}/api/v1/query_range",
        params={"query": expr, "start": end - 3600, "end": end, "step": "60s"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    result: list[dict[str, Any]] = answer.json()["data"]["result"]
    return result


@pytest.mark.asyncio
async def test_every_dashboard_query_returns_series(
    hub: HubUnderTest, victoria: VictoriaMetrics
) -> None:
    async with hub.client(Role.ADMIN) as api:
        for line, station in (("line1", "st10"), ("line2", "st30")):
            where = {"area": "assembly", "line": line, "station": station, "call_type": "help"}
            call = (await api.post("/api/calls", json=where)).json()
            for step in ("acknowledge", "arrive"):
                await api.post(f"/api/calls/{call['id']}/{step}")
            await api.post(f"/api/calls/{call['id']}/resolve", json={"reason_code": "adjusted"})
        where = {"area": "assembly", "line": "line1", "station": "st20", "call_type": "help"}
        mistaken = (await api.post("/api/calls", json=where)).json()
        await api.post(f"/api/calls/{mistaken['id']}/cancel", json={"reason": "pressed by mistake"})
    # What the measurement process reports after storing an edge's message, here through
    # the hub's own fan-out (the path through Mosquitto is test_timeseries_measurements').
    news: MeasurementNews = hub.app.state.measurements
    news.announce(measurement_event(1, at=datetime.now(UTC)))
    # Two calls through raised, acknowledged, arrived and resolved; one raised and cancelled.
    await eventually(victoria, "andon_call_count", 4 + 4 + 2)
    await eventually(victoria, "andon_spc_value", 2)
    await eventually(victoria, "andon_measurement_text_count", 1)
    queries = dashboard_queries()
    assert len(queries) >= 7 + 4 + 4
    empty = [name for name, expr in queries if not grafana_query(victoria, expr)]
    assert empty == []
    # The dashboard's line variable: label_values(andon_call_count, line).
    url = f"{victoria.url}/api/v1/label/line/values"
    answer = await asyncio.to_thread(httpx.get, url, params={"match[]": "andon_call_count"})
    assert answer.json()["data"] == ["line1", "line2"]
    # The characteristic variable: label_values(andon_spc_value, characteristic).
    url = f"{victoria.url}/api/v1/label/characteristic/values"
    answer = await asyncio.to_thread(httpx.get, url, params={"match[]": "andon_spc_value"})
    assert answer.json()["data"] == ["bore", "flatness"]


def test_a_dashboard_query_for_a_series_that_is_not_there_comes_back_empty(
    victoria: VictoriaMetrics,
) -> None:
    (_, expr), *_ = dashboard_queries()
    assert grafana_query(victoria, expr) == []
