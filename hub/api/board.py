"""/api/board: the andon board's tiles and header, and their live updates as server-sent
events.

The stream sends the whole board when it opens and again after every change of a call
on the board's lines (changes that come together are sent as one picture), and a comment
every few seconds so a proxy or a dead hub is noticed; the token is looked up again every
second (hub/api/streams.py), and a revoked one ends the stream. The browser reconnects by
itself.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from contract.wire import utc_now
from hub.access.permissions import Permission
from hub.access.tokens import TokenStore
from hub.api.auth import Principal, allowed
from hub.api.dependencies import ChangesDep, LiveConfigDep, StoreDep, TokensDep
from hub.api.parameters import Word
from hub.api.streams import EVENT_STREAM, KEEPALIVE, event_stream, watched
from hub.calls.news import CallChange, CallChanges
from hub.calls.repository import Store
from hub.process.live_config import LiveConfig
from hub.reports.board import BoardScope, board_snapshot

router = APIRouter(prefix="/api/board", tags=["board"])

# Changes within this window after the first are sent as one picture.
COALESCE_S = 0.05
Language = Literal["en", "zh"]


def _scope(who: Principal, line: str | None, lang: str) -> BoardScope:
    if line is not None:
        who.check_line(line)
    return BoardScope(line=line, allowed_lines=who.lines, language=lang)


async def _snapshot(store: Store, config: LiveConfig, scope: BoardScope) -> dict[str, Any]:
    return await asyncio.to_thread(
        lambda: board_snapshot(store=store, config=config.current, scope=scope, now=utc_now())
    )


@router.get("")
async def board(
    store: StoreDep,
    config: LiveConfigDep,
    who: Annotated[Principal, allowed(Permission.READ)],
    line: Word | None = None,
    lang: Language = "en",
) -> dict[str, Any]:
    """Tiles (``state``: raised, acknowledged, arrived or idle; ``colour``, ``flashing``,
    the station's open calls, most urgent first) and the header figures."""
    return await _snapshot(store, config, _scope(who, line, lang))


@router.get("/events", response_class=StreamingResponse, responses=EVENT_STREAM)
async def board_events(
    request: Request,
    *,
    store: StoreDep,
    config: LiveConfigDep,
    changes: ChangesDep,
    tokens: TokensDep,
    who: Annotated[Principal, allowed(Permission.READ)],
    line: Word | None = None,
    lang: Language = "en",
) -> StreamingResponse:
    """``event: board`` with the board's JSON, now and after each change on its lines."""
    scope = _scope(who, line, lang)
    return event_stream(
        _events(request, scope, store=store, config=config, changes=changes, tokens=tokens)
    )


async def _events(
    request: Request,
    scope: BoardScope,
    *,
    store: Store,
    config: LiveConfig,
    changes: CallChanges,
    tokens: TokenStore,
) -> AsyncIterator[str]:
    with changes.listen() as queue:
        yield _event(await _snapshot(store, config, scope))
        async for change in watched(request, tokens, queue.get):
            if change is None:
                yield KEEPALIVE
                continue
            await asyncio.sleep(COALESCE_S)
            if not _drain(queue, scope, change):
                continue
            yield _event(await _snapshot(store, config, scope))


def _drain(queue: asyncio.Queue[CallChange], scope: BoardScope, first: CallChange) -> bool:
    """Take every change already queued; whether any of them is on the board's lines."""
    relevant = scope.shows(first.line)
    while not queue.empty():
        relevant = scope.shows(queue.get_nowait().line) or relevant
    return relevant


def _event(snapshot: dict[str, Any]) -> str:
    return f"event: board\ndata: {json.dumps(snapshot, ensure_ascii=False)}\n\n"
