"""The hub served over real HTTP: uvicorn in a thread on a free loopback port, on a real
database, for what the in-process ASGI client cannot show (streams that stay open, a
body the server has not read yet, a fuzzer talking HTTP)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from contract.netutil import free_port
from contract.wire import utc_now
from hub.access.permissions import Role
from hub.access.tokens import TokenStore
from hub.config.file import load_hub_config
from hub.process.app import create_app
from tests.helpers.hub import hub_settings
from tests.helpers.plant import write_yaml
from tests.helpers.waiting import wait_until


class LiveHub:
    """A hub app served by uvicorn in a thread; ``url`` is its base URL."""

    def __init__(self, app: FastAPI, port: int) -> None:
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.tokens: dict[str, str] = {}

    def token(self, role: Role, *lines: str) -> str:
        """A token of ``role`` (made once per name), straight in the hub's database."""
        name = f"{role}-{'-'.join(lines) or 'all'}"
        if name not in self.tokens:
            self.tokens[name] = TokenStore(self.app.state.store).create(
                name=name, role=role, lines=lines, actor="test", now=utc_now()
            )
        return self.tokens[name]

    def client(self, role: Role | None = None, *lines: str) -> httpx.AsyncClient:
        headers = {} if role is None else {"Authorization": f"Bearer {self.token(role, *lines)}"}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)


@contextmanager
def live_hub(tmp_path: Path, database_url: str, **settings: Any) -> Iterator[LiveHub]:
    """A hub on ``database_url`` answering HTTP until the block ends; ``settings`` go into
    its YAML over the tests' defaults."""
    port = free_port()
    config = {
        **hub_settings(database_url),
        "api": {"host": "127.0.0.1", "port": port},
        "photos": {"directory": str(tmp_path / "photos")},
    }
    config.update(settings)
    path = write_yaml(tmp_path / "live-hub.yaml", config)
    app = create_app(load_hub_config(path), config_path=path)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), name="live-hub")
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), what="uvicorn started")
        assert server.started, "the hub did not start"
        yield LiveHub(app, port)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
