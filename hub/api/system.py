"""/healthz, /metrics and /api/edges: the hub's own state for operators and plant IT."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from hub.metrics import HubMetrics
from hub.schemas import EdgeOut, Health
from hub.store import Store
from hub.subscriber import Subscriber

router = APIRouter(tags=["system"])


@router.get("/healthz")
def healthz(request: Request) -> Health:
    subscriber: Subscriber = request.app.state.subscriber
    return Health(status="ok", broker_connected=subscriber.connected.is_set())


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> str:
    hub_metrics: HubMetrics = request.app.state.metrics
    return hub_metrics.render()


@router.get("/api/edges")
def list_edges(request: Request) -> list[EdgeOut]:
    store: Store = request.app.state.store
    return [EdgeOut.model_validate(row) for row in store.list_edges()]
