"""Measurement messages at the hub, on both databases: stored points and counters, the
routes that read them, redelivery, counter resets, rejections, retention, the fan-out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from fastapi import FastAPI

from contract.wire import MeasurementEvent, Topics, event_json, make_event_id
from hub.access.permissions import Role
from hub.config.file import load_hub_config
from hub.measurements.repository import MeasurementStore
from hub.measurements.subscription import MeasurementSubscriber
from hub.process.app import create_app
from hub.process.live_config import LiveConfig
from tests.hub.conftest import SITE, HubUnderTest, hub_settings
from tests.plant import write_yaml

pytestmark = pytest.mark.asyncio

T0 = datetime(2026, 12, 1, 8, 0, 0, tzinfo=UTC)
QUALITY = {
    "line": "line1", "station": "st10", "inspected": "made", "defective": "bad",
    "wraps_at": 65536, "max_increment": 1000,
}  # fmt: skip


@pytest_asyncio.fixture
async def hub(tmp_path: Path, database_url: str) -> AsyncIterator[HubUnderTest]:
    settings = hub_settings(database_url)
    settings["measurements"] = {"points_per_characteristic": 5, "quality": [QUALITY]}
    config_path = write_yaml(tmp_path / "hub.yaml", settings)
    app = create_app(load_hub_config(config_path), config_path=config_path)
    async with app.router.lifespan_context(app):
        yield HubUnderTest(app, config_path)


def _writer(app: FastAPI) -> MeasurementSubscriber:
    """The measurement process's writer, here in the test's process on the hub's database
    and running configuration (``write`` is what its writer task calls)."""
    live: LiveConfig = app.state.config
    return MeasurementSubscriber(
        config=lambda: live.current, store=MeasurementStore(app.state.store)
    )


def message(
    seq: int,
    *,
    at: datetime = T0,
    readings: list[dict[str, Any]] | None = None,
    points: list[dict[str, Any]] | None = None,
    edge_id: str = "edge-1",
) -> tuple[str, bytes]:
    """A measurement message as an edge publishes it: (topic, payload)."""
    event = MeasurementEvent.model_validate(
        {
            "event_id": make_event_id(edge_id, seq), "edge_id": edge_id, "seq": seq,
            "ts": at, "site": SITE, "area": "assembly", "line": "line1",
            "kind": "measurement",
            "payload": {"readings": readings or [], "points": points or []},
        }
    )  # fmt: skip
    return Topics().measurement(SITE, edge_id), event_json(event).encode()


def point(subgroup: int, value: float, *tests: int, **extra: Any) -> dict[str, Any]:
    return {
        "station": "st10", "characteristic": "bore", "chart": "imr", "measurement": "bore_mm",
        "subgroup": subgroup, "value": value, "center": 10.0, "lcl": 9.7, "ucl": 10.3,
        "tests": list(tests),
    } | extra  # fmt: skip


def counters(made: int, bad: int) -> list[dict[str, Any]]:
    return [
        {"station": "st10", "name": "made", "value": made},
        {"station": "st10", "name": "bad", "value": bad},
        {"station": "st20", "name": "made", "value": 10**9},  # st20 has no counters
    ]


async def _get(hub: HubUnderTest, path: str, **params: Any) -> Any:
    async with hub.client(Role.VIEWER) as client:
        response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_points_are_stored_and_read_back_page_by_page_with_the_newest_lines(
    hub: HubUnderTest,
) -> None:
    writer = _writer(hub.app)
    part = {"serial": "P7", "lot": "L1"}
    batch = [message(1, points=[point(1, 10.0), point(2, 10.1, part=part)])]
    batch.append(message(2, at=T0 + timedelta(seconds=1), points=[point(3, 10.4, 1)]))
    stored = writer.write(batch)
    assert [event.seq for event, _ in stored] == [1, 2]
    page = await _get(hub, "/api/characteristics/bore/points", limit=2)
    assert [p["subgroup"] for p in page["points"]] == [1, 2]
    assert page["points"][1]["part_serial"] == "P7"
    assert page["points"][1]["part_lot"] == "L1"
    rest = await _get(hub, "/api/characteristics/bore/points", cursor=page["next_cursor"])
    assert [(p["subgroup"], p["tests"]) for p in rest["points"]] == [(3, [1])]
    assert rest["next_cursor"] is None
    since = await _get(hub, "/api/characteristics/bore/points", since="2026-12-01T08:00:01Z")
    assert [p["subgroup"] for p in since["points"]] == [3]
    (item,) = (await _get(hub, "/api/characteristics"))["characteristics"]
    assert (item["characteristic"], item["station"], item["chart"]) == ("bore", "st10", "imr")
    assert (item["center"], item["lcl"], item["ucl"]) == (10.0, 9.7, 10.3)
    assert item["last_subgroup"] == 3
    assert item["last_point_at"].startswith("2026-12-01T08:00:01")


async def test_a_points_unit_is_stored_with_it_and_a_point_from_an_older_edge_has_none(
    hub: HubUnderTest,
) -> None:
    writer = _writer(hub.app)
    writer.write([message(1, points=[point(1, 10.0)])])  # an edge that sends no unit
    old = (await _get(hub, "/api/characteristics"))["characteristics"][0]
    assert old["unit"] is None
    writer.write([message(2, points=[point(2, 10.1, unit="mm")])])
    points = (await _get(hub, "/api/characteristics/bore/points"))["points"]
    assert [(p["subgroup"], p["unit"]) for p in points] == [(1, None), (2, "mm")]
    (item,) = (await _get(hub, "/api/characteristics"))["characteristics"]
    assert item["unit"] == "mm"


async def test_a_redelivered_message_adds_no_point_and_counts_no_part(hub: HubUnderTest) -> None:
    writer = _writer(hub.app)
    writer.write([message(1, readings=counters(100, 1))])
    second = message(2, readings=counters(110, 2), points=[point(1, 10.0)])
    writer.write([second])
    assert writer.write([second]) == []  # the broker delivered it again
    counts = await _get(
        hub, "/api/quality/counts", **{"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00Z"}
    )
    ((bucket),) = counts["counts"]
    assert (bucket["station"], bucket["inspected"], bucket["defective"]) == ("st10", 10, 1)
    points = await _get(hub, "/api/characteristics/bore/points")
    assert len(points["points"]) == 1
    assert writer.tally.outcomes["duplicate"] == 1


async def test_a_counter_reset_counts_what_was_made_since_not_a_negative_or_huge_step(
    hub: HubUnderTest,
) -> None:
    writer = _writer(hub.app)
    hour = timedelta(hours=1)
    readings = [
        (T0, 5000, 40), (T0 + timedelta(minutes=5), 5020, 41),
        (T0 + hour, 3, 0),  # the PLC restarted: both counters from 0 again
        (T0 + hour + timedelta(minutes=1), 10, 2),
        (T0 + 2 * hour, 65530, 2), (T0 + 2 * hour + timedelta(minutes=1), 65535, 2),
        (T0 + 2 * hour + timedelta(minutes=2), 4, 2),  # a uint16 that wrapped
    ]  # fmt: skip
    for seq, (at, made, bad) in enumerate(readings, start=1):
        writer.write([message(seq, at=at, readings=counters(made, bad))])
    counts = await _get(
        hub, "/api/quality/counts", **{"from": "2026-12-01T08:00:00Z", "to": "2026-12-01T11:00Z"}
    )
    by_hour = {c["hour"][11:13]: (c["inspected"], c["defective"]) for c in counts["counts"]}
    # 08: 20 made, 1 bad. 09: 3 since the reset and 7 more; 2 bad. 10: 65530 is a jump
    # from 10 (a preset, not counted), then 5, then 5 across the wrap (65535 -> 4).
    assert by_hour == {"08": (20, 1), "09": (10, 2), "10": (10, 0)}
    assert all(c["inspected"] >= 0 and c["defective"] >= 0 for c in counts["counts"])


async def test_malformed_and_mismatched_messages_are_rejected_counted_and_harmless(
    hub: HubUnderTest,
) -> None:
    writer = _writer(hub.app)
    topic, good = message(1, points=[point(1, 10.0)])
    bad_station = message(2, points=[point(2, 10.0, station="st99")])
    not_finite = (topic, good.replace(b'"value":10.0', b'"value":NaN'))
    other_edge = (Topics().measurement(SITE, "edge-2"), good)
    stored = writer.write(
        [(topic, b"{not json"), bad_station, not_finite, other_edge, (topic, good)]
    )
    assert [event.seq for event, _ in stored] == [1]
    assert writer.tally.rejected == {
        "malformed": 1, "unknown_station": 1, "invalid": 1, "edge_mismatch": 1
    }  # fmt: skip
    assert writer.tally.outcomes["rejected"] == 4
    points = await _get(hub, "/api/characteristics/bore/points")
    assert [p["subgroup"] for p in points["points"]] == [1]


async def test_retention_keeps_each_characteristics_newest_points_and_drops_old_ones(
    hub: HubUnderTest,
) -> None:
    writer = _writer(hub.app)
    old = T0 - timedelta(days=40)
    writer.write([message(1, at=old, points=[point(1, 9.9, characteristic="old")])])
    pts = [point(i, 10.0) for i in range(1, 9)]
    writer.write([message(2, points=pts)])
    # The writer prunes once a minute; the first prune may already have run.
    writer.store.prune(T0, config=hub.app.state.config.current.measurements)
    points = await _get(hub, "/api/characteristics/bore/points")
    assert [p["subgroup"] for p in points["points"]] == [4, 5, 6, 7, 8]
    assert (await _get(hub, "/api/characteristics/old/points"))["points"] == []


async def test_the_routes_keep_a_token_to_its_lines(hub: HubUnderTest) -> None:
    _writer(hub.app).write([message(1, points=[point(1, 10.0)])])
    async with hub.client(Role.VIEWER, "line2") as client:
        listed = await client.get("/api/characteristics")
        refused = await client.get("/api/characteristics/bore/points", params={"line": "line1"})
        naive = await client.get("/api/quality/counts", params={"from": "2026-12-01T00:00"})
    assert listed.json()["characteristics"] == []
    assert refused.status_code == 403
    assert naive.status_code == 422


async def test_a_counter_reading_beyond_a_bigint_is_ignored_and_the_message_still_stored(
    hub: HubUnderTest,
) -> None:
    # An unsigned 64-bit register at its top: a reading the contract takes, a counter
    # value no BIGINT column holds (an integer beyond any register is refused at the door).
    writer = _writer(hub.app)
    writer.write([message(1, readings=counters(100, 0))])
    huge = message(2, readings=counters(2**64 - 1, 0), points=[point(1, 10.0)])
    assert [event.seq for event, _ in writer.write([huge])] == [2]
    writer.write([message(3, readings=counters(104, 0))])
    counts = await _get(
        hub, "/api/quality/counts", **{"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00Z"}
    )
    assert [c["inspected"] for c in counts["counts"]] == [4]
    assert len((await _get(hub, "/api/characteristics/bore/points"))["points"]) == 1
