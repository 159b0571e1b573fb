"""Serve the hub's app with uvicorn until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

import uvicorn

from hub.app import create_app
from hub.config import HubConfig


class HubServer(uvicorn.Server):
    """uvicorn's server, leaving signals to the process that runs it.

    The demo runs the hub beside other tasks, so one owner must decide what Ctrl-C
    stops and in which order; uvicorn would otherwise re-raise the signal mid-shutdown.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def stop_on_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.request_stop)

    def request_stop(self) -> None:
        self.should_exit = True


def hub_server(config: HubConfig) -> HubServer:
    settings = uvicorn.Config(
        create_app(config),
        host=config.api.host,
        port=config.api.port,
        log_level="warning",
        lifespan="on",
    )
    return HubServer(settings)


async def serve_hub(config: HubConfig) -> None:
    server = hub_server(config)
    server.stop_on_signals()
    await server.serve()
