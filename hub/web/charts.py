"""/charts and /charts/{characteristic}: the engineer's control charts, live."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from hub.api.dependencies import LiveConfigDep
from hub.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/charts", response_class=HTMLResponse)
def charts_page(request: Request, live: LiveConfigDep) -> HTMLResponse:
    return page(request, live, "charts.html", title_key="charts")


@router.get("/charts/{characteristic}", response_class=HTMLResponse)
def chart_page(
    request: Request,
    live: LiveConfigDep,
    characteristic: Annotated[str, Path(min_length=1, max_length=64)],
) -> HTMLResponse:
    # Which stations chart it is the API's to say, with the browser's token: the page
    # itself holds no figures (hub/web/__init__.py).
    return page(request, live, "chart.html", title_key="chart", characteristic=characteristic)
