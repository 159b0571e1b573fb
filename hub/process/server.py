"""Serve the hub's app with uvicorn until SIGINT or SIGTERM; SIGHUP reloads its YAML."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from contract.wire import utc_now
from hub.config.file import HubConfig
from hub.process.app import create_app
from hub.process.systemd_notify import run_watchdog

log = logging.getLogger(__name__)


class HubServer(uvicorn.Server):
    """uvicorn's server, leaving signals to the process that runs it.

    The demo runs the hub beside other tasks, so one owner must decide what Ctrl-C
    stops and in which order; uvicorn would otherwise re-raise the signal mid-shutdown.
    """

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.app = app

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def stop_on_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)

    def request_stop(self) -> None:
        self.should_exit = True

    def request_reload(self) -> None:
        live = getattr(self.app.state, "config", None)
        if live is None:
            log.warning("SIGHUP before the hub started: nothing to reload yet")
            return
        # Off the event loop: the reload reads a file and writes its audit entry.
        done = asyncio.get_running_loop().run_in_executor(
            None, lambda: live.reload(actor="SIGHUP", now=utc_now())
        )
        done.add_done_callback(_log_failed_reload)


def _log_failed_reload(done: asyncio.Future[object]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.error("reload on SIGHUP failed", exc_info=done.exception())


def hub_server(config: HubConfig, *, config_path: Path | None = None) -> HubServer:
    app = create_app(config, config_path=config_path)
    settings = uvicorn.Config(
        app,
        host=config.api.host,
        port=config.api.port,
        log_level="warning",
        lifespan="on",
        # The board's event streams never end by themselves: give them this long, then
        # close them, so a stop or restart is not held up by a wall screen.
        timeout_graceful_shutdown=2,
    )
    return HubServer(settings, app)


async def serve_hub(config: HubConfig, *, config_path: Path | None = None) -> None:
    server = hub_server(config, config_path=config_path)
    server.stop_on_signals()
    host = "127.0.0.1" if config.api.host in {"0.0.0.0", "::", ""} else config.api.host  # noqa: S104  # matching, not binding
    host = f"[{host}]" if ":" in host else host
    watchdog = asyncio.create_task(
        run_watchdog(
            health_url=f"http://{host}:{config.api.port}/healthz",
            started=lambda: server.started,
        ),
        name="hub-systemd-watchdog",
    )
    try:
        await server.serve()
    finally:
        watchdog.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watchdog
