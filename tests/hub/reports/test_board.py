"""The board's picture: each station's tile in its light's colour and state, the header's
figures, names in the page's language, and only the lines a token may see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml

from contract.wire import utc_now
from hub.access.permissions import Role
from hub.calls.lifecycle import Actor, Source
from hub.shifts.production import start_of_day
from tests.helpers.hub import HubUnderTest

pytestmark = pytest.mark.asyncio

RESPONDER = Actor("li-wei", Source.API)


async def _board(hub: HubUnderTest, *lines: str, **params: str) -> dict[str, Any]:
    async with hub.client(Role.VIEWER, *lines) as client:
        response = await client.get("/api/board", params=params)
    assert response.status_code == 200, response.text
    board: dict[str, Any] = response.json()
    return board


def _tiles(board: dict[str, Any]) -> dict[str, tuple[str, str, bool]]:
    return {t["station"]: (t["state"], t["colour"], t["flashing"]) for t in board["tiles"]}


def _with_line_down(hub: HubUnderTest) -> None:
    settings = yaml.safe_load(hub.config_path.read_text())
    settings["call_types"].append({"id": "line-stop", "line_down": True, "names": {"zh": "停线"}})
    settings["areas"][0]["lines"][0]["names"] = {"zh": "一号线"}
    settings["areas"][0]["lines"][0]["stations"][0]["names"] = {"zh": "压装"}
    hub.config_path.write_text(yaml.safe_dump(settings, allow_unicode=True))
    assert hub.app.state.config.reload(actor="test", now=utc_now()).ok


async def test_tiles_take_the_colour_and_state_of_the_station_light(hub: HubUnderTest) -> None:
    assert _tiles(await _board(hub)) == {
        "st10": ("idle", "green", False),
        "st20": ("idle", "green", False),
        "st30": ("idle", "green", False),
    }
    raised = hub.raise_call("st10")
    acknowledged = hub.raise_call("st20", "quality")
    hub.store.transition(acknowledged, "acknowledge", utc_now(), actor=RESPONDER)
    arrived = hub.raise_call("st30", "help", line="line2")
    hub.store.transition(arrived, "arrive", utc_now(), actor=RESPONDER)
    board = await _board(hub)
    assert _tiles(board) == {
        "st10": ("raised", "amber", True),
        "st20": ("acknowledged", "blue", False),
        "st30": ("arrived", "amber", False),
    }
    by_station = {t["station"]: t for t in board["tiles"]}
    assert by_station["st10"]["calls"][0]["id"] == raised
    assert by_station["st20"]["calls"][0]["acknowledged_by"] == "li-wei"


async def test_a_line_down_call_is_red_and_first_on_its_tile(hub: HubUnderTest) -> None:
    _with_line_down(hub)
    helped = hub.raise_call("st10", "help")
    hub.store.transition(helped, "acknowledge", utc_now(), actor=RESPONDER)
    stop = hub.raise_call("st10", "line-stop")
    board = await _board(hub, lang="zh")
    tile = next(t for t in board["tiles"] if t["station"] == "st10")
    assert (tile["state"], tile["colour"], tile["flashing"]) == ("raised", "red", True)
    assert [c["id"] for c in tile["calls"]] == [stop, helped]
    assert (tile["name"], tile["line_name"]) == ("压装", "一号线")
    assert tile["calls"][0]["call_type_name"] == "停线"


async def test_the_header_counts_open_calls_today_and_the_median_response(
    hub: HubUnderTest,
) -> None:
    # Minutes into the site's day at least, so that calls raised minutes "ago" are today's
    # (a run just after midnight places them a few minutes ahead instead).
    zone = hub.app.state.config.current.timezone
    now = max(utc_now(), start_of_day(zone, utc_now()) + timedelta(minutes=10))
    for station, seconds in (("st10", 30), ("st20", 90)):
        call_id = hub.raise_call(station, at=now - timedelta(minutes=5))
        at = now - timedelta(minutes=5) + timedelta(seconds=seconds)
        hub.store.transition(call_id, "acknowledge", at, actor=RESPONDER)
    resolved = hub.raise_call("st30", "help", line="line2", at=now - timedelta(minutes=3))
    hub.store.transition(
        resolved, "resolve", now, actor=RESPONDER, details={"reason_code": "adjusted"}
    )
    hub.raise_call("st10", "help", at=now - timedelta(days=3))  # not today, still open
    header = (await _board(hub))["header"]
    assert header == {"open_calls": 3, "calls_today": 3, "median_response_s": 60.0}


async def test_a_board_shows_one_line_and_a_token_only_its_lines(hub: HubUnderTest) -> None:
    hub.raise_call("st10")
    assert {t["line"] for t in (await _board(hub, line="line2"))["tiles"]} == {"line2"}
    limited = await _board(hub, "line2")
    assert [t["station"] for t in limited["tiles"]] == ["st30"]
    assert limited["header"]["open_calls"] == 0
    async with hub.client(Role.VIEWER, "line2") as client:
        assert (await client.get("/api/board", params={"line": "line1"})).status_code == 403


async def test_a_call_at_a_station_taken_out_of_the_file_stays_on_the_board(
    hub: HubUnderTest,
) -> None:
    hub.raise_call("st20", "quality")
    settings = yaml.safe_load(hub.config_path.read_text())
    settings["areas"][0]["lines"][0]["stations"] = [{"id": "st10"}]
    hub.config_path.write_text(yaml.safe_dump(settings))
    assert hub.app.state.config.reload(actor="test", now=utc_now()).ok
    assert _tiles(await _board(hub))["st20"] == ("raised", "amber", True)
