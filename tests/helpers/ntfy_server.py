"""A local stand-in for a self-hosted ntfy server: its publish API on loopback, recording
every message, so a test sees what a plant's ntfy would have pushed to the phones.

It takes both forms ntfy documents (https://docs.ntfy.sh/publish/): a JSON body posted to
the root (``{"topic", "message", "title", "priority", "tags", "click", ...}``), and a body
posted or put to ``/<topic>`` with ``X-Title``, ``X-Priority``, ``X-Tags`` and ``X-Click``
headers; it answers as ntfy does, with the message it made (``id``, ``time``, ``event``).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from contract.netutil import free_port

TOPIC = re.compile(r"[-_A-Za-z0-9]{1,64}")
HEADERS = {"x-title": "title", "x-priority": "priority", "x-tags": "tags", "x-click": "click"}


@dataclass(frozen=True)
class Published:
    topic: str
    message: str
    title: str | None
    priority: str | None
    tags: list[str] = field(default_factory=list)
    click: str | None = None


class NtfyServer:
    """``with NtfyServer() as ntfy:`` a publish endpoint at ``ntfy.address`` (host:port)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.published: list[Published] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def messages(self, topic: str) -> list[Published]:
        with self._lock:
            return [m for m in self.published if m.topic == topic]

    def _publish(self, path: str, headers: dict[str, str], body: bytes) -> Published | None:
        if path == "/" and headers.get("content-type", "").startswith("application/json"):
            fields = json.loads(body)
            tags = fields.get("tags") or []
            return Published(
                topic=str(fields.get("topic", "")),
                message=str(fields.get("message", "")),
                title=fields.get("title"),
                priority=None if fields.get("priority") is None else str(fields["priority"]),
                tags=[str(t) for t in tags],
                click=fields.get("click"),
            )
        topic = path.strip("/").split("?")[0]
        if not TOPIC.fullmatch(topic):
            return None
        extra = {name: headers[key] for key, name in HEADERS.items() if key in headers}
        return Published(
            topic=topic,
            message=body.decode("utf-8"),
            title=extra.get("title"),
            priority=extra.get("priority"),
            tags=[t.strip() for t in extra.get("tags", "").split(",") if t.strip()],
            click=extra.get("click"),
        )

    def __enter__(self) -> NtfyServer:
        ntfy = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {key.lower(): value for key, value in self.headers.items()}
                message = ntfy._publish(self.path, headers, body)
                if message is None or not TOPIC.fullmatch(message.topic):
                    answer, status = {"code": 40010, "http": 400, "error": "invalid topic"}, 400
                else:
                    with ntfy._lock:
                        ntfy.published.append(message)
                    answer = {
                        "id": uuid.uuid4().hex[:12],
                        "time": int(time.time()),
                        "event": "message",
                        "topic": message.topic,
                        "message": message.message,
                    }
                    status = 200
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                self._answer()

            def do_PUT(self) -> None:
                self._answer()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
