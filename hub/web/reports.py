"""/reports: response times and where calls come from, over a chosen period."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub.api.dependencies import LiveConfigDep
from hub.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, live: LiveConfigDep) -> HTMLResponse:
    return page(request, live, "reports.html", title_key="reports")
