"""The API's event streams keep their word over real HTTP: a revoked token's streams end
whether or not events flow, and a chart's stream gets its keepalive while other
characteristics' points flow past it.

Mechanism (hub/api/streams.py): every stream looks its token up again each second on its
own clock, so a revoked token's stream ends within about a second plus one lookup. The
tests set the keepalive period to an hour where they show that the end does not wait for
a keepalive, and never measure time; their timeout catches a stream that never ends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract.wire import MeasurementEvent, make_event_id, utc_now
from hub.access.permissions import Role
from hub.api import streams
from hub.measurements.news import MeasurementNews
from tests.helpers.hub import SITE
from tests.helpers.live_hub import LiveHub, live_hub

pytestmark = pytest.mark.asyncio


@pytest.fixture
def live(tmp_path: Path, database_url: str) -> Iterator[LiveHub]:
    with live_hub(tmp_path, database_url) as hub:
        yield hub


async def _lines(response: httpx.Response) -> AsyncIterator[str]:
    async for line in response.aiter_lines():
        yield line


async def _revoke(live: LiveHub, name: str) -> None:
    async with live.client(Role.ADMIN) as admin:
        assert (await admin.delete(f"/api/admin/tokens/{name}")).status_code == 204


@contextlib.asynccontextmanager
async def _flowing(work: asyncio.Future[None] | asyncio.Task[None]) -> AsyncIterator[None]:
    try:
        yield
    finally:
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await work


async def _raise_calls_for_ever(live: LiveHub) -> None:
    """Presses at st10 as fast as the API takes them: each sends the board a change."""
    body = {"area": "assembly", "line": "line1", "station": "st10", "call_type": "help"}
    async with live.client(Role.STATION) as panel:
        while True:
            (await panel.post("/api/calls", json=body)).raise_for_status()
            await asyncio.sleep(0.05)


def _point_event(seq: int, characteristic: str) -> MeasurementEvent:
    point = {
        "station": "st10", "characteristic": characteristic, "chart": "imr",
        "measurement": "bore_mm", "subgroup": seq, "value": 10.0, "center": 10.0,
        "lcl": 9.7, "ucl": 10.3, "tests": [],
    }  # fmt: skip
    return MeasurementEvent.model_validate(
        {
            "event_id": make_event_id("edge-s", seq), "edge_id": "edge-s", "seq": seq,
            "ts": utc_now(), "site": SITE, "area": "assembly", "line": "line1",
            "kind": "measurement", "payload": {"points": [point]},
        }
    )  # fmt: skip


async def _announce_points_for_ever(live: LiveHub, characteristic: str) -> None:
    news: MeasurementNews = live.app.state.measurements
    seq = 0
    while True:
        seq += 1
        news.announce(_point_event(seq, characteristic))
        await asyncio.sleep(0.05)


async def _revoked_while_flowing(
    live: LiveHub, path: str, first: str, event: str, flow: Coroutine[Any, Any, None]
) -> int:
    """Open the viewer's stream at ``path``, start ``flow``, revoke the token once two
    ``event`` lines have come, and count them until the stream ends."""
    async with (
        live.client(Role.VIEWER) as viewer,
        viewer.stream("GET", path) as response,
    ):
        lines = _lines(response)
        assert await anext(lines) == first
        async with _flowing(asyncio.create_task(flow)):
            seen = 0
            async for line in lines:
                if line == event:
                    seen += 1
                    if seen == 2:  # events reach the stream: now revoke while they flow
                        await _revoke(live, "viewer-all")
    return seen


@pytest.mark.timeout(60)
async def test_a_revoked_tokens_quiet_board_stream_ends_without_waiting_for_a_keepalive(
    live: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streams, "KEEPALIVE_S", 3600.0)
    async with (
        live.client(Role.VIEWER) as viewer,
        viewer.stream("GET", "/api/board/events") as response,
    ):
        lines = _lines(response)
        assert await anext(lines) == "event: board"
        await _revoke(live, "viewer-all")
        rest = [line async for line in lines]
    assert not any(line.startswith("event:") for line in rest)


@pytest.mark.timeout(60)
async def test_a_revoked_tokens_board_stream_ends_while_changes_flow(
    live: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streams, "KEEPALIVE_S", 3600.0)
    seen = await _revoked_while_flowing(
        live, "/api/board/events", "event: board", "event: board", _raise_calls_for_ever(live)
    )
    assert seen >= 2


@pytest.mark.timeout(60)
async def test_a_revoked_tokens_chart_stream_ends_while_other_points_flow(
    live: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streams, "KEEPALIVE_S", 3600.0)
    seen = await _revoked_while_flowing(
        live,
        "/api/characteristics/bore/events",
        "event: open",
        "event: point",
        _announce_points_for_ever(live, "bore"),
    )
    assert seen >= 2


@pytest.mark.timeout(60)
async def test_a_quiet_characteristics_chart_gets_keepalives_while_others_points_flow(
    live: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streams, "KEEPALIVE_S", 0.3)
    async with (
        live.client(Role.VIEWER) as viewer,
        viewer.stream("GET", "/api/characteristics/flatness/events") as response,
    ):
        lines = _lines(response)
        assert await anext(lines) == "event: open"
        async with _flowing(asyncio.create_task(_announce_points_for_ever(live, "bore"))):
            news: MeasurementNews = live.app.state.measurements
            seen: list[str] = []
            async for line in lines:
                seen.append(line)
                if line == ": keepalive":
                    break
        assert news.listening
        assert "event: point" not in seen
