"""The inbox as an app on a phone's home screen: its web app manifest and its service
worker (hub/web/static/inbox-sw.js), which keeps the page's shell for when the hub is
out of reach; the calls themselves always come live from the API.

Both are served from the root: a service worker controls only the pages under its own
folder, and the inbox is /inbox. Browsers run service workers on HTTPS pages (and on
localhost) only: behind the reverse proxy docs/access.md asks for anyway.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).parent / "static"


@router.get("/manifest.webmanifest")
def manifest() -> Response:
    return Response(
        (STATIC / "inbox.webmanifest").read_bytes(), media_type="application/manifest+json"
    )


@router.get("/inbox-sw.js")
def service_worker() -> Response:
    # Asked again at every visit, so a new release's worker replaces the old one.
    return Response(
        (STATIC / "inbox-sw.js").read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )
