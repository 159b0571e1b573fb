"""What the hub's server-sent event streams share: the response headers, and the loop
that keeps a stream honest while it is open.

``watched`` waits for a stream's next item, and meanwhile, on its own clock whether or
not items flow: looks the request's token up again every ``TOKEN_CHECK_S`` (a revoked
token's streams end within that, plus one lookup), and asks for a keepalive comment every
``KEEPALIVE_S`` (a proxy or the browser notices a dead hub; a chart of a quiet
characteristic gets one while others' points flow past it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import StreamingResponse

from contract.wire import utc_now
from hub.access.sign_ins import holder_of
from hub.access.tokens import TokenStore
from hub.api.auth import bearer_token

KEEPALIVE_S = 5.0
TOKEN_CHECK_S = 1.0
KEEPALIVE = ": keepalive\n\n"

T = TypeVar("T")

# A stream route's answer, for the OpenAPI document (``responses=EVENT_STREAM``).
EVENT_STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "server-sent events, until the client leaves or the token is revoked",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


def event_stream(events: AsyncIterator[str]) -> StreamingResponse:
    """A text/event-stream response that no proxy buffers or caches."""
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def token_active(request: Request, tokens: TokenStore) -> bool:
    """Whether the request's bearer token is still a valid one (an API token not revoked,
    or a sign-in not ended nor expired)."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        return False
    return await asyncio.to_thread(holder_of, tokens.store, token, utc_now()) is not None


async def watched(
    request: Request, tokens: TokenStore, next_item: Callable[[], Awaitable[T]]
) -> AsyncIterator[T | None]:
    """Each item of ``next_item()``, and None when a keepalive is due; ends when the client
    has gone or the token was revoked."""
    loop = asyncio.get_running_loop()
    check_at = loop.time() + TOKEN_CHECK_S
    keepalive_at = loop.time() + KEEPALIVE_S
    while not await request.is_disconnected():
        now = loop.time()
        if now >= check_at:
            if not await token_active(request, tokens):
                return  # revoked: the browser reconnects, is refused, and asks for a token
            check_at = loop.time() + TOKEN_CHECK_S
        if now >= keepalive_at:
            keepalive_at = now + KEEPALIVE_S
            yield None
        try:
            # asyncio.timeout, not wait_for: wait_for can swallow a cancel
            async with asyncio.timeout_at(min(check_at, keepalive_at)):
                item = await next_item()
        except TimeoutError:
            continue
        yield item
