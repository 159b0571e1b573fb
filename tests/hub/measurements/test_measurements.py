"""Measurement messages at the hub, on both databases: stored points and counters, the
routes that read them, redelivery, counter resets, rejections, retention, the fan-out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contract.wire import Topics
from hub.access.permissions import Role
from tests.helpers.hub import SITE, HubUnderTest
from tests.helpers.measurements import T0, counters, get, measurement_writer, message, point

pytestmark = pytest.mark.asyncio


async def test_points_are_stored_and_read_back_page_by_page_with_the_newest_lines(
    hub: HubUnderTest,
) -> None:
    writer = measurement_writer(hub.app)
    part = {"serial": "P7", "lot": "L1"}
    batch = [message(1, points=[point(1, 10.0), point(2, 10.1, part=part)])]
    batch.append(message(2, at=T0 + timedelta(seconds=1), points=[point(3, 10.4, 1)]))
    stored = writer.write(batch)
    assert [event.seq for event, _ in stored] == [1, 2]
    page = await get(hub, "/api/characteristics/bore/points", limit=2)
    assert [p["subgroup"] for p in page["points"]] == [1, 2]
    assert page["points"][1]["part_serial"] == "P7"
    assert page["points"][1]["part_lot"] == "L1"
    rest = await get(hub, "/api/characteristics/bore/points", cursor=page["next_cursor"])
    assert [(p["subgroup"], p["tests"]) for p in rest["points"]] == [(3, [1])]
    assert rest["next_cursor"] is None
    since = await get(hub, "/api/characteristics/bore/points", since="2026-12-01T08:00:01Z")
    assert [p["subgroup"] for p in since["points"]] == [3]
    (item,) = (await get(hub, "/api/characteristics"))["characteristics"]
    assert (item["characteristic"], item["station"], item["chart"]) == ("bore", "st10", "imr")
    assert (item["center"], item["lcl"], item["ucl"]) == (10.0, 9.7, 10.3)
    assert item["last_subgroup"] == 3
    assert item["last_point_at"].startswith("2026-12-01T08:00:01")


async def test_a_points_unit_is_stored_with_it_and_a_point_from_an_older_edge_has_none(
    hub: HubUnderTest,
) -> None:
    writer = measurement_writer(hub.app)
    writer.write([message(1, points=[point(1, 10.0)])])  # an edge that sends no unit
    old = (await get(hub, "/api/characteristics"))["characteristics"][0]
    assert old["unit"] is None
    writer.write([message(2, points=[point(2, 10.1, unit="mm")])])
    points = (await get(hub, "/api/characteristics/bore/points"))["points"]
    assert [(p["subgroup"], p["unit"]) for p in points] == [(1, None), (2, "mm")]
    (item,) = (await get(hub, "/api/characteristics"))["characteristics"]
    assert item["unit"] == "mm"


async def test_a_redelivered_message_adds_no_point_and_counts_no_part(hub: HubUnderTest) -> None:
    writer = measurement_writer(hub.app)
    writer.write([message(1, readings=counters(100, 1))])
    second = message(2, readings=counters(110, 2), points=[point(1, 10.0)])
    writer.write([second])
    assert writer.write([second]) == []  # the broker delivered it again
    counts = await get(
        hub, "/api/quality/counts", **{"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00Z"}
    )
    ((bucket),) = counts["counts"]
    assert (bucket["station"], bucket["inspected"], bucket["defective"]) == ("st10", 10, 1)
    points = await get(hub, "/api/characteristics/bore/points")
    assert len(points["points"]) == 1
    assert writer.tally.outcomes["duplicate"] == 1


async def test_a_counter_reset_counts_what_was_made_since_not_a_negative_or_huge_step(
    hub: HubUnderTest,
) -> None:
    writer = measurement_writer(hub.app)
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
    counts = await get(
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
    writer = measurement_writer(hub.app)
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
    points = await get(hub, "/api/characteristics/bore/points")
    assert [p["subgroup"] for p in points["points"]] == [1]


async def test_retention_keeps_each_characteristics_newest_points_and_drops_old_ones(
    hub: HubUnderTest,
) -> None:
    writer = measurement_writer(hub.app)
    old = T0 - timedelta(days=40)
    writer.write([message(1, at=old, points=[point(1, 9.9, characteristic="old")])])
    pts = [point(i, 10.0) for i in range(1, 9)]
    writer.write([message(2, points=pts)])
    # The writer prunes once a minute; the first prune may already have run.
    writer.store.prune(T0, config=hub.app.state.config.current.measurements)
    points = await get(hub, "/api/characteristics/bore/points")
    assert [p["subgroup"] for p in points["points"]] == [4, 5, 6, 7, 8]
    assert (await get(hub, "/api/characteristics/old/points"))["points"] == []


async def test_the_routes_keep_a_token_to_its_lines(hub: HubUnderTest) -> None:
    measurement_writer(hub.app).write([message(1, points=[point(1, 10.0)])])
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
    writer = measurement_writer(hub.app)
    writer.write([message(1, readings=counters(100, 0))])
    huge = message(2, readings=counters(2**64 - 1, 0), points=[point(1, 10.0)])
    assert [event.seq for event, _ in writer.write([huge])] == [2]
    writer.write([message(3, readings=counters(104, 0))])
    counts = await get(
        hub, "/api/quality/counts", **{"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00Z"}
    )
    assert [c["inspected"] for c in counts["counts"]] == [4]
    assert len((await get(hub, "/api/characteristics/bore/points"))["points"]) == 1
