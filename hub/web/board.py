"""/board and /board/{line}: the andon board for a big screen.

``?kiosk=1`` runs it as a wall screen: no menu, so no "Sign out" and no links away;
the token it was opened with stays in the browser (docs/pages.md). ``?sound=on`` makes
the board chime while a call waits for its acknowledgement (``?sound=off`` silences it);
the screen remembers the choice per board.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from hub.api.dependencies import LiveConfigDep
from hub.web.render import page
from hub.web.sound import call_sound

Sound = Literal["on", "off"] | None

router = APIRouter(include_in_schema=False)


@router.get("/board", response_class=HTMLResponse)
def board_page(
    request: Request, live: LiveConfigDep, kiosk: bool = False, sound: Sound = None
) -> HTMLResponse:
    return page(request, live, "board.html", line=None, kiosk=kiosk, sound=sound, title_key="board")


@router.get("/board/{line}", response_class=HTMLResponse)
def line_board_page(
    request: Request, live: LiveConfigDep, line: str, kiosk: bool = False, sound: Sound = None
) -> HTMLResponse:
    if line not in live.current.line_ids():
        raise HTTPException(404, f"no line {line!r} in this site")
    return page(request, live, "board.html", line=line, kiosk=kiosk, sound=sound, title_key="board")


@router.get("/sounds/call.wav")
def call_sound_file() -> Response:
    """The chime the board plays (hub/web/sound.py)."""
    return Response(
        call_sound(), media_type="audio/wav", headers={"Cache-Control": "max-age=86400"}
    )
