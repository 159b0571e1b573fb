"""/rosters: roster overrides (who covers whom, and when), listed and made by a team leader."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub.api.dependencies import LiveConfigDep
from hub.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/rosters", response_class=HTMLResponse)
def rosters_page(request: Request, live: LiveConfigDep) -> HTMLResponse:
    # The site's time zone: the form's times are read in it (hub/shifts/overrides.py).
    return page(request, live, "rosters.html", title_key="rosters", timezone=live.current.timezone)
