"""Security headers on the hub's responses: what a browser may run, frame and tell others.

Every response says ``X-Content-Type-Options: nosniff`` (a browser never guesses a
script out of a JSON body), ``Referrer-Policy: no-referrer`` (a page opened with
``?token=`` or an ``/ack/`` link never hands its address to anyone) and
``X-Frame-Options: DENY``. Every HTML page also gets a Content-Security-Policy that runs
only the hub's own script files: no inline script, no inline style, nothing from another
origin, no framing. The pages keep their data in a ``<script type="application/json">``
block, which is data and never runs (hub/web/render.py).

FastAPI's own API explorer (``/docs``, ``/redoc``) is built of a CDN's scripts and an
inline one; it gets the framing rule only, so it keeps working where a plant allows it.

A plain ASGI middleware rather than Starlette's ``BaseHTTPMiddleware``: the board's
server-sent events stream for hours and must pass through untouched.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # The pages' icon is an empty data: URL (no request for a favicon); a call's
        # photos are read with the token and shown from blob: URLs (hub/web/static/photos.js).
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
EXPLORER_POLICY = "frame-ancestors 'none'"
ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeaders:
    """Adds the headers above to every HTTP response of ``app``.

    ``explorer_paths`` are the API explorer's pages (FastAPI's ``docs_url`` and friends)."""

    def __init__(self, app: ASGIApp, *, explorer_paths: Iterable[str | None] = ()) -> None:
        self.app = app
        self.explorer_paths = frozenset(path for path in explorer_paths if path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        explorer = scope["path"] in self.explorer_paths

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(
                    list(message.get("headers", [])), explorer=explorer
                )
            await send(message)

        await self.app(scope, receive, send_with_headers)


def with_security_headers(
    headers: list[tuple[bytes, bytes]], *, explorer: bool
) -> list[tuple[bytes, bytes]]:
    """``headers`` with ours added; a header the response set itself is kept."""
    present = {name.lower() for name, _ in headers}
    added = [(name, value) for name, value in ALWAYS if name not in present]
    content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
    if content_type.startswith(b"text/html") and b"content-security-policy" not in present:
        policy = EXPLORER_POLICY if explorer else PAGE_POLICY
        added.append((b"content-security-policy", policy.encode()))
    return headers + added
