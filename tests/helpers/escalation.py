"""The escalation tests' hub file (people, rosters, policies with webhooks on a receiver),
the hub running it in-process, waiting for what it sends, and reading the escalation rows
of a call.

Targets are ``andon+http://`` webhooks on the receiver (signed, with an idempotency key),
so a test reads who was told at which level from the structured body.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select

from hub.calls.repository import Store
from hub.config.file import load_hub_config
from hub.db.tables import escalations, notifications
from hub.edges.ingest import Result
from hub.escalation.deliveries import SENDING
from hub.escalation.engine import EscalationEngine
from hub.process.app import create_app
from hub.process.live_config import LiveConfig
from tests.helpers.hub import HubUnderTest, hub_settings
from tests.helpers.receiver import Received, Receiver
from tests.helpers.waiting import until

T = TypeVar("T")


async def received(receiver: Receiver, count: int, *, within: float = 15.0) -> list[Received]:
    await until(lambda: len(receiver.received) >= count, timeout=within, what=f"{count} msgs")
    return list(receiver.received)


def levels(receiver: Receiver) -> list[tuple[str, int]]:
    """(path, level) of every message received, in order of receipt."""
    return [(r.path, int(r.json()["level"])) for r in receiver.received]


def escalation(store: Store, call_id: int) -> dict[str, Any]:
    with store.read() as conn:
        row = conn.execute(select(escalations).where(escalations.c.call_id == call_id))
        return dict(row.mappings().one())


def attempts(store: Store) -> list[dict[str, Any]]:
    with store.read() as conn:
        return [dict(r) for r in conn.execute(select(notifications)).mappings()]


SECRET = "s3cret-hook"


def hook(receiver: Receiver, path: str) -> str:
    return f"andon+http://{SECRET}@{receiver.url}/{path}"


def escalation_settings(
    database_url: str, receiver: Receiver, *, levels: list[dict[str, Any]] | None = None,
    ack_timeout_s: int = 60, line_stop_after_s: int | None = None, **escalation: Any,
) -> dict[str, Any]:  # fmt: skip
    """A hub file with two people, an all-week roster and one maintenance policy."""
    settings = hub_settings(database_url)
    settings["call_types"].append({"id": "breakdown", "line_down": True})
    settings["people"] = [
        {"id": "li-wei", "name": "Li Wei", "notify": [hook(receiver, "li-wei")]},
        {"id": "zhang-min", "name": "Zhang Min", "notify": [hook(receiver, "zhang-min")]},
        {"id": "boss", "name": "Wang Fang", "notify": [hook(receiver, "boss")]},
    ]
    every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    settings["rosters"] = [
        {
            "id": "maintenance",
            "timezone": "UTC",
            "shifts": [
                {"members": ["li-wei"], "days": every_day, "start": "00:00", "end": "23:59"}
            ],
            "fallback": ["boss"],
        }
    ]
    policy: dict[str, Any] = {
        "id": "maintenance-calls",
        "match": {"call_types": ["maintenance"]},
        "ack_timeout_s": ack_timeout_s,
        "levels": levels
        or [
            {"after_s": 0, "notify": ["roster:maintenance"]},
            {"after_s": 2, "notify": ["person:zhang-min"]},
            {"after_s": 4, "notify": ["person:boss"]},
        ],
    }
    if line_stop_after_s is not None:
        policy["line_stop_after_s"] = line_stop_after_s
    quality = {
        "id": "quality-calls",
        "match": {"call_types": ["quality"]},
        "ack_timeout_s": 60,
        "levels": [{"after_s": 0, "notify": ["person:zhang-min"]}],
    }
    settings["escalation"] = {
        "policies": [policy, quality],
        "retry": {"initial_s": 0.2, "cap_s": 1.0, "attempts": 3},
        "send_timeout_s": 2,
        "public_url": "http://hub.test",
        **escalation,
    }
    return settings


@contextlib.asynccontextmanager
async def running_hub(config_path: Path) -> AsyncIterator[HubUnderTest]:
    app = create_app(load_hub_config(config_path), config_path=config_path)
    async with app.router.lifespan_context(app):
        yield HubUnderTest(app, config_path)


def announce(hub: HubUnderTest, *messages: tuple[str, bytes]) -> list[Result]:
    """Ingest messages in-process and announce their changes, as the subscriber does."""
    report = hub.ingest.handle_batch(list(messages))
    hub.app.state.changes.announce(*report.changes)
    return report.results


SLOW_LEVELS = [
    {"after_s": 0, "notify": ["roster:maintenance"]},
    {"after_s": 5, "notify": ["person:zhang-min"]},
    {"after_s": 6, "notify": ["person:boss"]},
]


async def pass_at(hub: HubUnderTest, now: datetime) -> list[dict[str, Any]]:
    """One escalation pass at ``now``, a chosen clock, as a second hub on the same
    database runs it: what it queued and claimed to send (nothing, when nothing is due).

    A test shows that nothing happens at a time to come by asking this pass, instead of
    waiting for that time; what the pass claims, it does not send. It first waits for the
    running hub to record the outcome of every send it has under way: at the chosen
    clock, such a send's lease would have run out, and the pass would take it for one
    cut off by a dying hub and try it again."""
    await until(
        lambda: not [a for a in attempts(hub.store) if a["status"] == SENDING],
        what="the running hub's sends recorded",
    )
    live: LiveConfig = hub.app.state.config
    engine = EscalationEngine(store=hub.store, config=lambda: live.current)
    return await asyncio.to_thread(engine.tick, now)
