"""The hub's app factory: storage, MQTT subscription and API routers in one lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from hub.access.failed_sign_ins import FailedSignIns
from hub.api import (
    accounts,
    admin,
    anomalies,
    board,
    calls,
    chart_events,
    dead_letters,
    downtime,
    knowledge,
    login,
    measurements,
    notifications,
    oee,
    photos,
    reports,
    roster_overrides,
    system,
    token_info,
)
from hub.api.gate import ApiGate
from hub.api.login import failure_policy
from hub.api.problems import add_problem_handlers, document_problems
from hub.calls.news import CallChanges
from hub.calls.repository import Store
from hub.config.file import HubConfig
from hub.db.engine import database_url, open_engine, upgrade
from hub.edges.ingest_worker import IngestWorker
from hub.edges.lights import LightPublisher
from hub.edges.subscription import Subscriber
from hub.escalation.engine import EscalationEngine
from hub.export.measurements import measurement_sources
from hub.export.timeseries import timeseries_export
from hub.measurements.news import MeasurementNews
from hub.measurements.worker import MeasurementWorker
from hub.photos.repository import PhotoPlace, Photos
from hub.process.live_config import LiveConfig
from hub.process.metrics import HubMetrics
from hub.sparkplug.host import SparkplugHost
from hub.web import acknowledge_links, add_pages

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


# One router per resource, in the order the API documentation lists them (the
# acknowledgement links' pages among them, as they always were).
ROUTERS = (
    calls,
    knowledge,
    board,
    reports,
    system,
    admin,
    anomalies,
    notifications,
    photos,
    acknowledge_links,
    measurements,
    chart_events,
    dead_letters,
    token_info,
    roster_overrides,
    login,
    accounts,
    downtime,
    oee,
)


def create_app(config: HubConfig, *, config_path: Path | None = None) -> FastAPI:
    """A FastAPI app for one site; the MQTT subscriber runs for the app's lifetime.

    ``config_path`` is the file a reload re-reads."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with _hub_services(app, config, config_path):
            yield

    app = FastAPI(
        title="Andon hub",
        summary=f"Calls, stations and edge agents of site {config.site}",
        version="0.2.0",
        lifespan=lifespan,
    )
    for resource in ROUTERS:
        app.include_router(resource.router)
    add_pages(app)
    add_problem_handlers(app)
    # Before routing: a body is never read for a request without a token, nor past the limit.
    app.add_middleware(ApiGate, max_body_bytes=config.api.max_body_bytes)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with every route's error answers as problems (made once)."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            routes=app.routes,
        )
        app.openapi_schema = document_problems(schema)
    return app.openapi_schema


def _photo_place(config: HubConfig) -> PhotoPlace:
    return PhotoPlace(config.photo_directory, config.photos.quota_bytes)


@contextlib.asynccontextmanager
async def _hub_services(
    app: FastAPI, config: HubConfig, config_path: Path | None
) -> AsyncIterator[None]:
    """Storage, ingest, escalation, lights and measurements, for the app's lifetime."""
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
    app.state.failed_sign_ins = FailedSignIns(failure_policy(config.auth))
    app.state.metrics = metrics
    app.state.subscriber = subscriber
    app.state.photos = Photos(store, place=lambda: _photo_place(live.current))
    escalation = EscalationEngine(store=store, config=lambda: live.current, changes=changes)
    app.state.escalation = escalation
    lights = LightPublisher(config=live, store=store, changes=changes)
    app.state.lights = lights
    task = asyncio.create_task(subscriber.run(), name="hub-mqtt-subscriber")
    engine_task = asyncio.create_task(escalation.run(), name="hub-escalation")
    lights_task = asyncio.create_task(lights.run(), name="hub-light-commands")
    # Measurements on a path (and in a process) of their own; app.state.measurements
    # announces what it stored.
    app.state.measurements = news = MeasurementNews(asyncio.get_running_loop())
    app.state.measuring = measuring = MeasurementWorker(config=config, news=news, metrics=metrics)
    measuring.start()
    live.on_change(measuring.use_config)
    app.state.sparkplug = sparkplug = (
        None
        if config.sparkplug is None
        else SparkplugHost(config=lambda: live.current, database=store, news=news, changes=changes)
    )
    sparkplug_task = (
        None
        if sparkplug is None
        else asyncio.create_task(sparkplug.run(), name="hub-sparkplug-host")
    )
    try:
        exports = measurement_sources(news, metrics)
        async with timeseries_export(
            config, changes=changes, store=store, metrics=metrics, more_sources=exports
        ):
            yield
    finally:
        if sparkplug_task is not None:
            await stop_task(sparkplug_task, lambda: None)
        await stop_task(lights_task, lambda: None)
        await stop_task(engine_task, escalation.stop)
        await asyncio.to_thread(measuring.stop)
        await stop_task(task, subscriber.stop)
        await asyncio.to_thread(worker.stop)
        engine.dispose()
