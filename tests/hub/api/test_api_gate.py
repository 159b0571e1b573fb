"""The API's door over real HTTP: a body larger than ``api.max_body_bytes`` is refused
with 413 before it is read, and a request without a valid token with 401 before its body
is read; the answers are problems (RFC 9457) like every other refusal.

"Before it is read" is shown by a client that sends the headers and then nothing: a hub
that waited for the announced body would never answer, and the test would time out."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.access.permissions import Role
from tests.helpers.live_hub import LiveHub, live_hub

LIMIT = 4096


@pytest.fixture
def live(tmp_path: Path, database_url: str) -> Iterator[LiveHub]:
    with live_hub(tmp_path, database_url, api={"max_body_bytes": LIMIT}) as hub:
        yield hub


def _answer_without_sending_the_body(live: LiveHub, head: str) -> tuple[int, dict[str, str], bytes]:
    """Send ``head`` (request line and headers) and no body; the status, headers and body
    of the answer."""
    with socket.create_connection(("127.0.0.1", live.port), timeout=30) as conn:
        conn.sendall(head.encode("latin-1") + b"\r\n")
        received = b""
        while b"\r\n\r\n" not in received or not _complete(received):
            chunk = conn.recv(65536)
            if not chunk:
                break
            received += chunk
    header_block, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = header_block.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def _complete(received: bytes) -> bool:
    header_block, _, body = received.partition(b"\r\n\r\n")
    for line in header_block.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            return len(body) >= int(value)
    return False


def _head(method: str, path: str, *, token: str | None, length: int) -> str:
    lines = [f"{method} {path} HTTP/1.1", "Host: hub", "Content-Type: application/json"]
    lines.append(f"Content-Length: {length}")
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.timeout(60)
def test_a_body_announced_over_the_limit_is_a_413_before_it_is_read(live: LiveHub) -> None:
    head = _head("POST", "/api/calls", token=live.token(Role.STATION), length=LIMIT + 1)
    status, headers, body = _answer_without_sending_the_body(live, head)
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert (problem["status"], problem["title"]) == (413, "Request Entity Too Large")
    assert str(LIMIT) in problem["detail"]


@pytest.mark.timeout(60)
def test_a_request_without_a_token_is_a_401_before_its_body_is_read(live: LiveHub) -> None:
    for token in (None, "andon_not-a-real-token"):
        head = _head("POST", "/api/calls", token=token, length=100)
        status, headers, body = _answer_without_sending_the_body(live, head)
        assert status == 401, token
        assert headers["www-authenticate"] == "Bearer"
        assert json.loads(body)["detail"] == "a valid API token is needed"


@pytest.mark.timeout(60)
def test_a_chunked_body_is_counted_and_refused_past_the_limit(live: LiveHub) -> None:
    token = live.token(Role.STATION)

    def chunks() -> Iterator[bytes]:  # no Content-Length: httpx sends it chunked
        yield b'{"area": "assembly", "line": "line1", "station": "st10", "call_type": "'
        yield b"x" * (2 * LIMIT)
        yield b'"}'

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=live.url, headers=headers, timeout=30) as client:
        refused = client.post("/api/calls", content=chunks())
        assert refused.status_code == 413, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        small = b'{"area": "assembly", "line": "line1", "station": "st10", "call_type": "help"}'
        accepted = client.post("/api/calls", content=iter([small[:20], small[20:]]))
        assert accepted.status_code == 201, accepted.text


@pytest.mark.timeout(60)
def test_every_refusal_is_a_problem_with_a_detail(live: LiveHub) -> None:
    token = live.token(Role.VIEWER)
    with httpx.Client(base_url=live.url, timeout=30) as client:
        auth = {"Authorization": f"Bearer {token}"}
        answers = {
            401: client.get("/api/calls"),
            403: client.post("/api/admin/reload", headers=auth),
            404: client.get("/api/calls/12345", headers=auth),
            405: client.put("/api/calls", headers=auth),
            422: client.get("/api/calls", params={"limit": "0"}, headers=auth),
        }
    for status, response in answers.items():
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == status
        assert isinstance(problem["detail"], str)
        assert problem["detail"]
    assert answers[405].headers["allow"] == "GET, POST"
    assert answers[422].json()["errors"][0]["loc"] == ["query", "limit"]
