"""The hub in-process with people, rosters and policies, and a receiver for its messages.

Targets are ``andon+http://`` webhooks on the receiver (signed, with an idempotency key),
so a test reads who was told at which level from the structured body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.helpers.escalation import SLOW_LEVELS, escalation_settings, running_hub
from tests.helpers.hub import HubUnderTest
from tests.helpers.plant import write_yaml
from tests.helpers.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as started:
        yield started


@pytest_asyncio.fixture
async def esc_hub(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> AsyncIterator[HubUnderTest]:
    path = write_yaml(tmp_path / "hub.yaml", escalation_settings(database_url, receiver))
    async with running_hub(path) as hub:
        yield hub


@pytest_asyncio.fixture
async def slow_hub(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> AsyncIterator[HubUnderTest]:
    """Level 1 five seconds after level 0: time for a test to act between them."""
    settings = escalation_settings(database_url, receiver, levels=SLOW_LEVELS)
    async with running_hub(write_yaml(tmp_path / "hub.yaml", settings)) as hub:
        yield hub
