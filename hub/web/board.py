"""/board and /board/{line}: the andon board for a big screen.

``?kiosk=1`` runs it as a wall screen: no menu, so no "Sign out" and no links away;
the token it was opened with stays in the browser (docs/pages.md).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from hub.api.dependencies import LiveConfigDep
from hub.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/board", response_class=HTMLResponse)
def board_page(request: Request, live: LiveConfigDep, kiosk: bool = False) -> HTMLResponse:
    return page(request, live, "board.html", line=None, kiosk=kiosk, title_key="board")


@router.get("/board/{line}", response_class=HTMLResponse)
def line_board_page(
    request: Request, live: LiveConfigDep, line: str, kiosk: bool = False
) -> HTMLResponse:
    if line not in live.current.line_ids():
        raise HTTPException(404, f"no line {line!r} in this site")
    return page(request, live, "board.html", line=line, kiosk=kiosk, title_key="board")
