"""What the hub's server-sent event streams share: the keepalive period, the response
headers, and the token check each stream repeats while it is open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.responses import StreamingResponse

from hub.api.auth import bearer_token
from hub.tokens import TokenStore

# A comment this often lets a proxy or the browser notice a dead hub; the token is
# looked up again at the same moments, so a revoked one ends its streams.
KEEPALIVE_S = 5.0


def event_stream(events: AsyncIterator[str]) -> StreamingResponse:
    """A text/event-stream response that no proxy buffers or caches."""
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def token_active(request: Request) -> bool:
    """Whether the request's bearer token is still a valid one."""
    token = bearer_token(request.headers.get("authorization"))
    tokens = TokenStore(request.app.state.store)
    return token is not None and await asyncio.to_thread(tokens.lookup, token) is not None
