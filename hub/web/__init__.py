"""The hub's web pages: the andon board, the responder's inbox, a call's page, the
engineer's control charts and the reports, server-rendered with Jinja2 and a little of
our own JavaScript.

Pages hold labels and the plant's names only; every figure and call comes from the API
with the browser's token (docs/access.md), so a page never needs a build step, a CDN or
a session of its own. Templates and static files live beside this package and ship
with it. Every response carries the security headers of hub/web/headers.py: the pages
run only their own script files.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from hub.web import board, calls, charts, inbox_app, reports, rosters
from hub.web.headers import SecurityHeaders

STATIC = Path(__file__).parent / "static"


def add_pages(app: FastAPI) -> None:
    """Serve the pages and their static files on ``app``, and secure every response."""
    app.include_router(board.router)
    app.include_router(calls.router)
    app.include_router(reports.router)
    app.include_router(charts.router)
    app.include_router(inbox_app.router)
    app.include_router(rosters.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    explorer = (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url)
    app.add_middleware(SecurityHeaders, explorer_paths=explorer)
