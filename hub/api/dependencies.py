"""What the API's routes and the pages are given: the hub's parts, typed, through FastAPI's
dependency injection.

The app factory keeps each part on ``app.state`` for its lifespan (hub/process/app.py);
this module is the one place that reads them there. A route names what it needs as a
parameter, ``store: StoreDep``, and a test can swap a part with
``app.dependency_overrides``. The functions are async so that FastAPI calls them on the
event loop, not in its thread pool: they only look an attribute up.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hub.access.accounts import AccountStore
from hub.access.failed_sign_ins import FailedSignIns
from hub.access.tokens import TokenStore
from hub.calls.news import CallChanges
from hub.calls.repository import Store
from hub.edges.subscription import Subscriber
from hub.measurements.news import MeasurementNews
from hub.measurements.worker import MeasurementWorker
from hub.photos.repository import Photos
from hub.process.live_config import LiveConfig
from hub.process.metrics import HubMetrics


async def store(request: Request) -> Store:
    found: Store = request.app.state.store
    return found


async def tokens(request: Request) -> TokenStore:
    return TokenStore(await store(request))


async def accounts(request: Request) -> AccountStore:
    return AccountStore(await store(request))


async def failed_sign_ins(request: Request) -> FailedSignIns:
    found: FailedSignIns = request.app.state.failed_sign_ins
    return found


async def live_config(request: Request) -> LiveConfig:
    found: LiveConfig = request.app.state.config
    return found


async def call_changes(request: Request) -> CallChanges:
    found: CallChanges = request.app.state.changes
    return found


async def metrics(request: Request) -> HubMetrics:
    found: HubMetrics = request.app.state.metrics
    return found


async def measurement_news(request: Request) -> MeasurementNews:
    found: MeasurementNews = request.app.state.measurements
    return found


async def measuring(request: Request) -> MeasurementWorker:
    found: MeasurementWorker = request.app.state.measuring
    return found


async def subscriber(request: Request) -> Subscriber:
    found: Subscriber = request.app.state.subscriber
    return found


async def photos(request: Request) -> Photos:
    found: Photos = request.app.state.photos
    return found


StoreDep = Annotated[Store, Depends(store)]
"""The calls repository, and the database's transactions."""
TokensDep = Annotated[TokenStore, Depends(tokens)]
AccountsDep = Annotated[AccountStore, Depends(accounts)]
FailedSignInsDep = Annotated[FailedSignIns, Depends(failed_sign_ins)]
"""Recent failed sign-ins of this hub process, per name and address."""
LiveConfigDep = Annotated[LiveConfig, Depends(live_config)]
"""The running configuration: ``.current`` is the HubConfig of this moment."""
ChangesDep = Annotated[CallChanges, Depends(call_changes)]
MetricsDep = Annotated[HubMetrics, Depends(metrics)]
MeasurementNewsDep = Annotated[MeasurementNews, Depends(measurement_news)]
MeasuringDep = Annotated[MeasurementWorker, Depends(measuring)]
SubscriberDep = Annotated[Subscriber, Depends(subscriber)]
PhotosDep = Annotated[Photos, Depends(photos)]
"""The photos on calls: rows and files under the photo directory."""
