"""Reports over a period: response times, the Pareto of reason codes, breakdowns by line,
station, call type and shift, as JSON and CSV; bad periods are refused."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract.config.loading import ConfigInvalid
from contract.wire import utc_now
from hub.access.permissions import Role
from hub.calls.lifecycle import Actor, Source
from hub.config.file import HubConfig, load_hub_config
from hub.shifts.production import shift_of, start_of_day
from tests.helpers.hub import HubUnderTest
from tests.helpers.plant import write_yaml

pytestmark = pytest.mark.asyncio

RESPONDER = Actor("li-wei", Source.API)
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai: the early shift
PERIOD = {"since": "2026-03-01T00:00:00Z", "until": "2026-03-04T00:00:00Z"}


def _resolved(
    hub: HubUnderTest, station: str, call_type: str, *, at: datetime, ack_s: float,
    resolve_s: float, reason: str, line: str = "line1",
) -> int:  # fmt: skip
    call_id = hub.raise_call(station, call_type, line=line, at=at)
    hub.store.transition(call_id, "acknowledge", at + timedelta(seconds=ack_s), actor=RESPONDER)
    hub.store.transition(
        call_id, "resolve", at + timedelta(seconds=resolve_s), actor=RESPONDER,
        details={"reason_code": reason, "note": None},
    )  # fmt: skip
    return call_id


def _plant(hub: HubUnderTest) -> None:
    """Three tool-worn calls, one adjusted, one cancelled; one call outside the period."""
    _resolved(hub, "st10", "maintenance", at=T0, ack_s=30, resolve_s=300, reason="tool-worn")
    _resolved(hub, "st10", "maintenance", at=T0 + timedelta(hours=1), ack_s=90,
              resolve_s=600, reason="tool-worn")  # fmt: skip
    _resolved(hub, "st20", "quality", at=T0 + timedelta(hours=2), ack_s=60, resolve_s=120,
              reason="adjusted")  # fmt: skip
    _resolved(hub, "st30", "help", at=T0 + timedelta(hours=8), ack_s=10, resolve_s=20,
              reason="tool-worn", line="line2")  # fmt: skip  # 17:00 local: late shift
    cancelled = hub.raise_call("st20", "help", at=T0 + timedelta(hours=3))
    hub.store.transition(
        cancelled, "cancel", T0 + timedelta(hours=3, seconds=5), actor=RESPONDER,
        details={"cancel_reason": "pressed by mistake"},
    )  # fmt: skip
    _resolved(hub, "st10", "help", at=T0 - timedelta(days=5), ack_s=1, resolve_s=2,
              reason="adjusted")  # fmt: skip


def _with_shifts(hub: HubUnderTest) -> None:
    settings = yaml.safe_load(hub.config_path.read_text())
    settings["timezone"] = "Asia/Shanghai"
    settings["reason_codes"] = [
        {"id": "tool-worn", "name": "Tool worn", "names": {"zh": "刀具磨损"}},
        "adjusted",
    ]
    settings["shifts"] = [
        {"id": "early", "start": "06:00", "end": "14:00", "names": {"zh": "早班"}},
        {"id": "late", "start": "14:00", "end": "22:00"},
    ]
    hub.config_path.write_text(yaml.safe_dump(settings, allow_unicode=True))
    assert hub.app.state.config.reload(actor="test", now=utc_now()).ok


async def _get(hub: HubUnderTest, path: str, role: Role = Role.VIEWER, *lines: str,
               **params: Any) -> Any:  # fmt: skip
    async with hub.client(role, *lines) as client:
        response = await client.get(path, params={**PERIOD, **params})
    assert response.status_code == 200, response.text
    return response.json() if params.get("format") != "csv" else response.text


async def test_the_summary_gives_counts_and_response_times_of_the_period(
    hub: HubUnderTest,
) -> None:
    _plant(hub)
    (row,) = (await _get(hub, "/api/reports/summary"))["rows"]
    figures = row["figures"]
    assert (figures["calls"], figures["resolved"], figures["cancelled"], figures["open"]) == (
        5, 4, 1, 0,
    )  # fmt: skip
    acknowledge = figures["times"]["to_acknowledge_s"]
    assert acknowledge["median"] == pytest.approx(45.0)  # of 30, 90, 60, 10
    assert acknowledge["mean"] == pytest.approx(47.5)
    assert figures["times"]["to_resolve_s"]["median"] == pytest.approx(210.0)
    assert figures["times"]["to_arrive_s"]["median"] is None  # nobody marked arrival
    # Unattended: waiting for acknowledgement, then for an arrival that never came.
    assert figures["times"]["unattended_s"]["total"] == pytest.approx(300 + 600 + 120 + 20 + 5)


async def test_reason_codes_make_a_pareto_largest_first_with_the_running_share(
    hub: HubUnderTest,
) -> None:
    _plant(hub)
    _with_shifts(hub)
    report = await _get(hub, "/api/reports/calls", by="reason_code", lang="zh")
    rows = [(r["key"], r["label"], r["figures"]["calls"]) for r in report["rows"]]
    assert rows == [("tool-worn", "刀具磨损", 3), ("adjusted", "adjusted", 1)]
    assert [r["share"] for r in report["rows"]] == [0.75, 0.25]
    assert [r["cumulative_share"] for r in report["rows"]] == [0.75, 1.0]


async def test_calls_are_counted_by_line_station_call_type_and_shift(hub: HubUnderTest) -> None:
    _plant(hub)
    _with_shifts(hub)

    async def keys(by: str) -> list[tuple[str | None, int]]:
        report = await _get(hub, "/api/reports/calls", by=by)
        return [(r["key"], r["figures"]["calls"]) for r in report["rows"]]

    assert await keys("line") == [("line1", 4), ("line2", 1)]
    assert await keys("station") == [("line1/st10", 2), ("line1/st20", 2), ("line2/st30", 1)]
    assert await keys("call_type") == [("help", 2), ("maintenance", 2), ("quality", 1)]
    assert await keys("shift") == [("early", 4), ("late", 1)]


async def test_a_call_outside_every_shift_is_counted_under_null(hub: HubUnderTest) -> None:
    _with_shifts(hub)
    hub.raise_call("st10", at=T0 + timedelta(hours=15))  # 00:00 in Shanghai
    report = await _get(hub, "/api/reports/calls", by="shift")
    assert [(r["key"], r["figures"]["calls"]) for r in report["rows"]] == [(None, 1)]


async def test_the_csv_holds_the_same_figures_as_the_json(hub: HubUnderTest) -> None:
    _plant(hub)
    as_json = await _get(hub, "/api/reports/calls", by="station")
    as_csv = await _get(hub, "/api/reports/calls", by="station", format="csv")
    rows = list(csv.DictReader(io.StringIO(as_csv)))
    assert [r["key"] for r in rows] == [r["key"] for r in as_json["rows"]]
    for line, row in zip(rows, as_json["rows"], strict=True):
        assert int(line["calls"]) == row["figures"]["calls"]
        assert float(line["cumulative_share"]) == pytest.approx(row["cumulative_share"])
        median = row["figures"]["times"]["to_resolve_s"]["median"]
        assert line["median_to_resolve_s"] == ("" if median is None else f"{median:.1f}")


async def test_a_token_of_one_line_gets_the_figures_of_its_line_only(hub: HubUnderTest) -> None:
    _plant(hub)
    report = await _get(hub, "/api/reports/calls", Role.VIEWER, "line2", by="line")
    assert [r["key"] for r in report["rows"]] == ["line2"]
    async with hub.client(Role.VIEWER, "line2") as client:
        refused = await client.get("/api/reports/summary", params={"line": "line1"})
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "2026-03-01T00:00:00"}, "need a time zone"),
        ({"by": "colour"}, "reason_code"),
        ({"format": "xlsx"}, "csv"),
    ],
)
async def test_a_bad_period_or_dimension_is_refused_with_the_reason(
    hub: HubUnderTest, params: dict[str, str], message: str
) -> None:
    _plant(hub)
    async with hub.client(Role.VIEWER) as client:
        response = await client.get("/api/reports/calls", params={"by": "line", **params})
    assert response.status_code == 422
    assert message in response.text
    assert len(hub.store_calls()) == 6


async def test_a_period_that_ends_before_it_starts_holds_no_calls(hub: HubUnderTest) -> None:
    _plant(hub)
    inverted = {"since": "2099-03-04T00:00:00Z", "until": "1999-03-01T00:00:00Z"}
    async with hub.client(Role.VIEWER) as client:
        response = await client.get("/api/reports/calls", params={"by": "line", **inverted})
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == []


async def test_a_night_shift_runs_across_midnight_in_its_own_time_zone() -> None:
    config = HubConfig.model_validate(
        {
            "site": "s",
            "call_types": ["help"],
            "reason_codes": ["fixed"],
            "areas": [{"id": "a", "lines": [{"id": "l", "stations": [{"id": "s1"}]}]}],
            "timezone": "Europe/Berlin",
            "shifts": [
                {"id": "night", "start": "22:00", "end": "06:00", "timezone": "Asia/Shanghai"},
                {"id": "day", "start": "06:00", "end": "22:00"},
            ],
        }
    )
    shanghai_23h = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    shanghai_05h = datetime(2026, 3, 2, 21, 0, tzinfo=UTC)  # 22:00 in Berlin
    assert shift_of(config.shifts, config.timezone, shanghai_23h) == "night"
    assert shift_of(config.shifts, config.timezone, shanghai_05h) == "night"
    berlin_noon = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)  # 19:00 in Shanghai: not night
    assert shift_of(config.shifts, config.timezone, berlin_noon) == "day"
    assert start_of_day("Asia/Shanghai", shanghai_23h) == datetime(2026, 3, 1, 16, tzinfo=UTC)


async def test_shift_mistakes_are_config_errors_all_at_once(tmp_path: Path) -> None:
    settings = {
        "site": "s",
        "call_types": ["help"],
        "reason_codes": ["fixed"],
        "areas": [{"id": "a", "lines": [{"id": "l", "stations": [{"id": "s1"}]}]}],
        "timezone": "Asia/Shang-hai",
        "shifts": [
            {"id": "early", "start": "06:00", "end": "14:00"},
            {"id": "early", "start": "14:00", "end": "24:00"},
        ],
    }
    path = write_yaml(tmp_path / "hub.yaml", settings)
    with pytest.raises(ConfigInvalid) as caught:
        load_hub_config(path)
    found = "\n".join(str(issue) for issue in caught.value.issues)
    assert "timezone: expected an IANA time zone" in found
    assert "shifts[1].end: expected a time of day from 00:00 to 23:59" in found
    del settings["timezone"]
    settings["shifts"][1]["end"] = "22:00"  # type: ignore[index]
    write_yaml(path, settings)
    with pytest.raises(ConfigInvalid, match=r"shifts\[1\]: duplicate 'early'"):
        load_hub_config(path)
