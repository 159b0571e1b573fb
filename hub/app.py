"""The hub's app factory: storage, MQTT subscription and API routers in one lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from hub.api import calls, system
from hub.config import HubConfig
from hub.ingest import Ingest
from hub.metrics import HubMetrics
from hub.store import Store
from hub.subscriber import Subscriber


def create_app(config: HubConfig) -> FastAPI:
    """A FastAPI app for one site; the MQTT subscriber runs for the app's lifetime."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(config.storage.path)
        metrics = HubMetrics()
        subscriber = Subscriber(
            config=config, ingest=Ingest(config=config, store=store, metrics=metrics)
        )
        app.state.config = config
        app.state.store = store
        app.state.metrics = metrics
        app.state.subscriber = subscriber
        task = asyncio.create_task(subscriber.run(), name="hub-mqtt-subscriber")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            store.close()

    app = FastAPI(
        title="Andon hub",
        summary=f"Calls, stations and edge agents of site {config.site}",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.include_router(calls.router)
    app.include_router(system.router)
    return app
