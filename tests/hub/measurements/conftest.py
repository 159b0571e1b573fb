"""The hub of the measurement tests: points kept per characteristic, one quality counter
pair (tests/helpers/measurements.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from hub.config.file import load_hub_config
from hub.process.app import create_app
from tests.helpers.hub import HubUnderTest, hub_settings
from tests.helpers.measurements import QUALITY
from tests.helpers.plant import write_yaml


@pytest_asyncio.fixture
async def hub(tmp_path: Path, database_url: str) -> AsyncIterator[HubUnderTest]:
    settings = hub_settings(database_url)
    settings["measurements"] = {"points_per_characteristic": 5, "quality": [QUALITY]}
    config_path = write_yaml(tmp_path / "hub.yaml", settings)
    app = create_app(load_hub_config(config_path), config_path=config_path)
    async with app.router.lifespan_context(app):
        yield HubUnderTest(app, config_path)
