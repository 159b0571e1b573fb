"""A local HTTP receiver standing in for phones: it records every request it gets.

It answers 200, or, for paths told to fail, 500 a given number of times before it
answers 200: a channel that is down for a while; a path told to hold answers its next
request late (the sender may be killed meanwhile).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from contract.netutil import free_port


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() on receipt

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """``with Receiver() as r:`` a server on loopback; ``r.url`` is its base URL."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.failures: dict[str, int] = {}  # path -> how many more requests to refuse
        self.holds: dict[str, float] = {}  # path -> seconds the next request waits for its answer
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"

    def on(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def fail(self, path: str, times: int) -> None:
        with self._lock:
            self.failures[path] = times

    def hold(self, path: str, seconds: float) -> None:
        """Record the next request to ``path`` at once, but answer it only after ``seconds``."""
        with self._lock:
            self.holds[path] = seconds

    def __enter__(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    refuse = receiver.failures.get(self.path, 0)
                    if refuse:
                        receiver.failures[self.path] = refuse - 1
                    else:
                        receiver.received.append(
                            Received(self.path, dict(self.headers), body, time.time())
                        )
                    held = receiver.holds.pop(self.path, 0.0)
                time.sleep(held)
                self.send_response(500 if refuse else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
