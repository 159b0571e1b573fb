"""The hub in-process with people, rosters and policies, and a receiver for its messages.

Targets are ``andon+http://`` webhooks on the receiver (signed, with an idempotency key),
so a test reads who was told at which level from the structured body.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from hub.config.file import load_hub_config
from hub.edges.ingest import Result
from hub.process.app import create_app
from tests.hub.conftest import HubUnderTest, hub_settings
from tests.plant import write_yaml
from tests.receiver import Receiver

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


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as started:
        yield started


@contextlib.asynccontextmanager
async def running_hub(config_path: Path) -> AsyncIterator[HubUnderTest]:
    app = create_app(load_hub_config(config_path), config_path=config_path)
    async with app.router.lifespan_context(app):
        yield HubUnderTest(app, config_path)


@pytest_asyncio.fixture
async def esc_hub(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> AsyncIterator[HubUnderTest]:
    path = write_yaml(tmp_path / "hub.yaml", escalation_settings(database_url, receiver))
    async with running_hub(path) as hub:
        yield hub


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


@pytest_asyncio.fixture
async def slow_hub(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> AsyncIterator[HubUnderTest]:
    """Level 1 five seconds after level 0: time for a test to act between them."""
    settings = escalation_settings(database_url, receiver, levels=SLOW_LEVELS)
    async with running_hub(write_yaml(tmp_path / "hub.yaml", settings)) as hub:
        yield hub
