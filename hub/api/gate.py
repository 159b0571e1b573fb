"""The API's door, in front of routing: a request under /api without a valid token, or
with a body larger than ``api.max_body_bytes``, is refused before its body is read.

FastAPI reads a route's body before it runs the route's dependencies, so the token check
of hub/api/auth.py alone would let anyone make the hub read (and parse) a body. Here the
token is looked up from the headers alone, and what was found rides on to the route in
the request's state (``hub.api.auth.TOKEN_STATE``), so the route does not look it up again.

A photo's upload (``POST /api/calls/{id}/photos``) has a limit of its own,
``photos.max_bytes`` and a little for the multipart form around the file, read from the
running configuration at each request.

A body announced larger than the limit (``Content-Length``) is refused at once; a body
sent in chunks is counted as it comes, and refused when it passes the limit. The body is
then handed to the app as it was received.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract.wire import utc_now
from hub.access.sign_ins import holder_of
from hub.api.auth import TOKEN_STATE, bearer_token
from hub.api.problems import problem_response

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
_API_PREFIX = "/api/"  # every route here needs a token (hub/access/permissions.py)
_PHOTO_UPLOAD = re.compile(r"/api/calls/[^/]+/photos")
# The multipart form's boundaries and part headers around a photo's bytes.
FORM_ALLOWANCE = 16 * 1024
# ... but these, which are how a person gets one (hub/access/permissions.py's PUBLIC).
_OPEN = frozenset({"/api/login"})


class ApiGate:
    """Pure ASGI middleware: authentication and the body limit, before the body is read."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value for key, value in scope["headers"]}
        needs_token = scope["path"].startswith(_API_PREFIX) and scope["path"] not in _OPEN
        if needs_token and not await _authenticate(scope, headers):
            await _refuse(scope, receive, send, 401, "a valid API token is needed")
            return
        limit, too_large = self._limit(scope)
        if _announced_length(headers) > limit:
            await _refuse(scope, receive, send, 413, too_large)
            return
        body = await _read_body(receive, limit)
        if body is None:
            await _refuse(scope, receive, send, 413, too_large)
            return
        await self.app(scope, _replay(body, receive), send)

    def _limit(self, scope: Scope) -> tuple[int, str]:
        """The body limit of this request, and what a refusal says."""
        live = getattr(scope["app"].state, "config", None)
        if (
            live is not None
            and scope["method"] == "POST"
            and _PHOTO_UPLOAD.fullmatch(scope["path"])
        ):
            photo_bytes: int = live.current.photos.max_bytes
            return (
                photo_bytes + FORM_ALLOWANCE,
                f"the photo is larger than {photo_bytes} bytes (photos.max_bytes)",
            )
        return (
            self.max_body_bytes,
            f"the body is larger than {self.max_body_bytes} bytes (api.max_body_bytes)",
        )


async def _read_body(receive: Receive, limit: int) -> list[Message] | None:
    """The body's messages, or None when they pass the limit (reading stops there)."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages
        size += len(message.get("body", b""))
        if size > limit:
            return None
        if not message.get("more_body", False):
            return messages


def _announced_length(headers: dict[str, bytes]) -> int:
    try:
        return int(headers.get("content-length", b"0"))
    except ValueError:
        return 0  # not a number: the server refuses it, or the body is counted


async def _authenticate(scope: Scope, headers: dict[str, bytes]) -> bool:
    """Whether the request carries an active token; the token's record goes to its state."""
    authorization = headers.get("authorization")
    text = None if authorization is None else authorization.decode("latin-1")
    token = bearer_token(text)
    store = getattr(scope["app"].state, "store", None)
    if token is None or store is None:
        return False
    info = await anyio.to_thread.run_sync(holder_of, store, token, utc_now())
    if info is None:
        return False
    state: MutableMapping[str, Any] = scope.setdefault("state", {})
    state[TOKEN_STATE] = info
    return True


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    # The client may still be sending a body nobody reads: ask it not to reuse the line.
    headers["Connection"] = "close"
    await problem_response(status, detail, headers=headers)(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive that gives the body already read, then what the client sends next
    (its disconnect)."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
