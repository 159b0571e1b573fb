"""/healthz, /metrics and /api/edges: the hub's own state for operators and plant IT."""

from __future__ import annotations

import hmac
import ipaddress
import logging
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import SQLAlchemyError

from contract.bounds import Text
from contract.secrets import SecretMissing, resolve_secrets
from hub.access.permissions import Permission
from hub.api.auth import Principal, allowed, bearer_token
from hub.api.dependencies import LiveConfigDep, MeasuringDep, MetricsDep, StoreDep, SubscriberDep
from hub.api.schemas import EdgeOut, EdgePage, Health
from hub.db.paging import DEFAULT_PAGE, MAX_PAGE, split_page
from hub.edges import liveness
from hub.process.live_config import LiveConfig

log = logging.getLogger(__name__)
router = APIRouter(tags=["system"])


@router.get("/healthz", responses={503: {"model": Health, "description": "something is wrong"}})
def healthz(
    subscriber: SubscriberDep, measuring: MeasuringDep, store: StoreDep, config: LiveConfigDep
) -> JSONResponse:
    """ok (200), or failing (503) with what is wrong, for a watchdog or a load balancer."""
    problems = []
    broker_connected = subscriber.connected.is_set()
    if not broker_connected:
        problems.append("not connected to the MQTT broker")
    # Until then the edges' measurements find no subscriber and the broker drops them.
    measurements_subscribed = measuring.subscribed.is_set()
    if not measurements_subscribed:
        problems.append("measurements not subscribed at the MQTT broker")
    try:
        store.ping()
        database_ok = True
    except SQLAlchemyError as exc:
        database_ok = False
        problems.append(f"database unreachable: {type(exc).__name__}")
    health = Health(
        status="failing" if problems else "ok",
        broker_connected=broker_connected,
        measurements_subscribed=measurements_subscribed,
        database_ok=database_ok,
        problems=problems,
        config_reload_ok=config.status.ok,
    )
    return JSONResponse(health.model_dump(), status_code=503 if problems else 200)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        403: {"description": "off loopback, without api.metrics_token"},
    },
)
def metrics(
    request: Request,
    hub_metrics: MetricsDep,
    config: LiveConfigDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """Prometheus metrics: open on loopback; elsewhere only with ``api.metrics_token``."""
    if not _is_loopback(request) and not _has_metrics_token(config, authorization):
        raise HTTPException(403, "metrics are open on loopback only; configure api.metrics_token")
    return Response(hub_metrics.render(), media_type=CONTENT_TYPE_LATEST)


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client is not None else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _has_metrics_token(config: LiveConfig, authorization: str | None) -> bool:
    expected = config.current.api.metrics_token
    given = bearer_token(authorization)
    if expected is None or given is None:
        return False
    try:
        return hmac.compare_digest(resolve_secrets(expected), given)
    except SecretMissing as exc:
        log.error("api.metrics_token: %s", exc)
        return False


@router.get("/api/edges")
def list_edges(
    store: StoreDep,
    who: Annotated[Principal, allowed(Permission.READ)],
    cursor: Annotated[Text | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
) -> EdgePage:
    """Edge agents and their liveness, by edge id, a page at a time. A token limited to
    lines reads the edges known to serve them: those that reported a device or charted a
    characteristic on one of its lines."""
    rows = liveness.list_edges(store, after=cursor, limit=limit + 1, lines=who.lines)
    page, next_cursor = split_page(rows, limit, lambda row: str(row["edge_id"]))
    return EdgePage(edges=[EdgeOut.model_validate(row) for row in page], next_cursor=next_cursor)
