"""The demo's responders outlive a hub that goes away in the middle of a pass."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from andon.demo_plant import respond

CALLS = {"calls": [{"id": 1, "state": "raised", "station": "st10", "call_type": "help"}]}


class _HubThatDropsPosts(BaseHTTPRequestHandler):
    """Lists one raised call, then drops the connection of every step asked for (the
    hub stopping between the two, as at a Ctrl-C)."""

    posts = 0

    def do_GET(self) -> None:
        body = json.dumps(CALLS).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        type(self).posts += 1
        self.close_connection = True
        self.connection.close()  # no answer at all

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@pytest.fixture
def hub_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HubThatDropsPosts)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.asyncio
async def test_a_step_the_hub_drops_is_tried_again_at_the_next_pass(hub_url: str) -> None:
    _HubThatDropsPosts.posts = 0
    responders = asyncio.create_task(respond(hub_url, "token", every_s=0.05))
    for _ in range(200):
        await asyncio.sleep(0.05)
        if _HubThatDropsPosts.posts >= 3 or responders.done():
            break
    assert not responders.done(), responders.exception()
    assert _HubThatDropsPosts.posts >= 3  # each pass tried the step again
    responders.cancel()
    with pytest.raises(asyncio.CancelledError):
        await responders
