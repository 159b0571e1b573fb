"""/inbox and /calls/{id}: the responder's list of open calls, and one call's page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub.api.dependencies import LiveConfigDep
from hub.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, live: LiveConfigDep, call: int | None = None) -> HTMLResponse:
    """``?call=ID`` (a notification's link) opens that call."""
    return page(request, live, "inbox.html", call_id=call, title_key="inbox")


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def call_page(request: Request, live: LiveConfigDep, call_id: int) -> HTMLResponse:
    return page(request, live, "call.html", call_id=call_id, title_key="call")
