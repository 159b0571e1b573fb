"""The board's event stream against a real hub process: every role may read it, a token
is needed, a token of one line reads only that line, and each change sends a picture."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.helpers.web import WebPlant

pytestmark = [pytest.mark.system, pytest.mark.asyncio]

ROLES = ["viewer", "station", "responder", "engineer", "admin"]


async def _boards(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """Each ``event: board`` of the stream, as JSON."""
    event = None
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            event = line.partition(":")[2].strip()
        elif line.startswith("data:") and event == "board":
            board: dict[str, Any] = json.loads(line.partition(":")[2])
            yield board


def _client(plant: WebPlant, token: str | None) -> httpx.AsyncClient:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return httpx.AsyncClient(base_url=plant.base_url, headers=headers, timeout=15)


def _states(board: dict[str, Any]) -> dict[str, str]:
    return {tile["station"]: tile["state"] for tile in board["tiles"]}


async def test_every_role_reads_the_stream_and_no_token_is_refused(web_plant: WebPlant) -> None:
    for role in ROLES:
        async with (
            _client(web_plant, web_plant.tokens[role]) as client,
            client.stream("GET", "/api/board/events") as response,
        ):
            assert response.status_code == 200, role
            assert response.headers["content-type"].startswith("text/event-stream")
            first = await anext(_boards(response))
            assert _states(first)["st10"] == "idle"
    async with _client(web_plant, None) as anonymous:
        assert (await anonymous.get("/api/board/events")).status_code == 401
    async with _client(web_plant, web_plant.tokens["viewer-line2"]) as limited:
        refused = await limited.get("/api/board/events", params={"line": "line1"})
        assert refused.status_code == 403


async def test_a_change_sends_a_picture_to_the_streams_of_its_line_only(
    web_plant: WebPlant,
) -> None:
    raise_at = {"area": "assembly", "call_type": "maintenance"}
    async with (
        _client(web_plant, web_plant.tokens["viewer"]) as viewer,
        _client(web_plant, web_plant.tokens["viewer-line2"]) as limited,
        viewer.stream("GET", "/api/board/events", params={"line": "line1"}) as line1,
        limited.stream("GET", "/api/board/events") as line2,
    ):
        line1_boards, line2_boards = _boards(line1), _boards(line2)
        assert _states(await anext(line1_boards)) == {
            "st10": "idle",
            "st20": "idle",
            "st30": "idle",
        }
        assert _states(await anext(line2_boards)) == {"st40": "idle"}
        with web_plant.api() as api:
            raised = api.post("/api/calls", json={**raise_at, "line": "line2", "station": "st40"})
            assert raised.status_code == 201, raised.text
            assert _states(await anext(line2_boards)) == {"st40": "raised"}
            raised = api.post("/api/calls", json={**raise_at, "line": "line1", "station": "st10"})
            assert raised.status_code == 201, raised.text
        # Had line2's call sent line1 a picture, this one would still show st10 idle.
        assert _states(await anext(line1_boards))["st10"] == "raised"


async def test_a_revoked_token_ends_its_open_stream(web_plant: WebPlant) -> None:
    async with (
        _client(web_plant, web_plant.tokens["viewer"]) as viewer,
        viewer.stream("GET", "/api/board/events") as response,
    ):
        boards = _boards(response)
        await anext(boards)
        with web_plant.api() as api:
            assert api.delete("/api/admin/tokens/viewer-token").status_code == 204
        # The stream ends at its next keepalive instead of reading on for ever.
        assert [board async for board in boards] == []
    async with _client(web_plant, web_plant.tokens["viewer"]) as viewer:
        assert (await viewer.get("/api/board/events")).status_code == 401
