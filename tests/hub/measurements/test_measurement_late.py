"""A measurement message that a newer one of its edge overtook (hubs of a shared group
store one edge's messages in turn) still has its points stored, once, and its counter
readings, older than the total already counted, count no parts; on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers.hub import HubUnderTest
from tests.helpers.measurements import (
    T0,
    counters,
    get,
    measurement_writer,
    message,
    point,
)

pytestmark = pytest.mark.asyncio


DAY = {"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00Z"}


async def test_an_overtaken_message_has_its_points_stored_once_and_counts_no_parts(
    hub: HubUnderTest,
) -> None:
    writer = measurement_writer(hub.app)
    writer.write([message(1, readings=counters(100, 1), points=[point(1, 10.0)])])
    # Message 3 is stored first (by the other hub, say), then 2 arrives.
    later = T0 + timedelta(seconds=2)
    writer.write([message(3, at=later, readings=counters(120, 3), points=[point(3, 10.2)])])
    overtaken = message(2, at=T0 + timedelta(seconds=1), readings=counters(110, 2),
                        points=[point(2, 10.1)])  # fmt: skip
    assert [event.seq for event, _ in writer.write([overtaken])] == [2]
    assert writer.write([overtaken]) == []  # and delivered again: nothing more
    points = await get(hub, "/api/characteristics/bore/points")
    assert sorted(p["subgroup"] for p in points["points"]) == [1, 2, 3]
    ((bucket),) = (await get(hub, "/api/quality/counts", **DAY))["counts"]
    # 100 -> 120 is 20 parts, 2 bad: the older 110 was no counter reset.
    assert (bucket["inspected"], bucket["defective"]) == (20, 2)
    assert writer.tally.outcomes["duplicate"] == 1
    (item,) = (await get(hub, "/api/characteristics"))["characteristics"]
    assert item["last_subgroup"] == 3  # the newest lines stay the newest message's


async def test_a_message_after_an_overtaken_one_is_still_taken_as_new(hub: HubUnderTest) -> None:
    writer = measurement_writer(hub.app)
    writer.write([message(2, points=[point(2, 10.0)])])
    writer.write([message(1, points=[point(1, 10.0)])])
    stored = writer.write([message(3, points=[point(3, 10.0)])])
    assert [event.seq for event, _ in stored] == [3]
    points = await get(hub, "/api/characteristics/bore/points")
    assert sorted(p["subgroup"] for p in points["points"]) == [1, 2, 3]
