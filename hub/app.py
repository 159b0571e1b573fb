"""The hub's app factory: storage, MQTT subscription and API routers in one lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from fastapi import FastAPI

from hub.api import admin, anomalies, calls, system
from hub.changes import CallChanges
from hub.config import HubConfig
from hub.database import database_url, open_engine, upgrade
from hub.ingest_worker import IngestWorker
from hub.light_publisher import LightPublisher
from hub.live_config import LiveConfig
from hub.metrics import HubMetrics
from hub.store import Store
from hub.subscriber import Subscriber

log = logging.getLogger(__name__)

STOP_WAIT_S = 2.0


async def stop_task(task: asyncio.Task[None], stop: Callable[[], object]) -> None:
    """Stop ``task`` within seconds: ask it, cancel it, and cancel again if that got lost."""
    stop()
    for _ in range(3):
        task.cancel()
        done, _pending = await asyncio.wait({task}, timeout=STOP_WAIT_S)
        if done:
            with contextlib.suppress(asyncio.CancelledError):
                task.result()
            return
    log.error("task %s did not stop; leaving it behind", task.get_name())


def create_app(config: HubConfig, *, config_path: Path | None = None) -> FastAPI:
    """A FastAPI app for one site; the MQTT subscriber runs for the app's lifetime.

    ``config_path`` is the file a reload re-reads."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = open_engine(database_url(config.storage))
        await asyncio.to_thread(upgrade, engine)
        store = Store(engine)
        metrics = HubMetrics()
        metrics.count_open_calls(store.open_call_counts)
        live = LiveConfig(config, path=config_path, store=store, metrics=metrics)
        worker = IngestWorker(config)
        await asyncio.to_thread(worker.start)
        live.on_change(worker.use_config)
        changes = CallChanges(asyncio.get_running_loop())
        subscriber = Subscriber(config=live, apply=worker.apply, metrics=metrics, changes=changes)
        app.state.changes = changes
        app.state.config = live
        app.state.store = store
        app.state.metrics = metrics
        app.state.subscriber = subscriber
        lights = LightPublisher(config=live, store=store, changes=changes)
        app.state.lights = lights
        task = asyncio.create_task(subscriber.run(), name="hub-mqtt-subscriber")
        lights_task = asyncio.create_task(lights.run(), name="hub-light-commands")
        try:
            yield
        finally:
            await stop_task(lights_task, lambda: None)
            await stop_task(task, subscriber.stop)
            await asyncio.to_thread(worker.stop)
            engine.dispose()

    app = FastAPI(
        title="Andon hub",
        summary=f"Calls, stations and edge agents of site {config.site}",
        version="0.2.0",
        lifespan=lifespan,
    )
    app.include_router(calls.router)
    app.include_router(system.router)
    app.include_router(admin.router)
    app.include_router(anomalies.router)
    return app
