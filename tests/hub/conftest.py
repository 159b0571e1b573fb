"""The hub in-process on a real database (SQLite and PostgreSQL): tests/helpers/hub.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from hub.config.file import load_hub_config
from hub.process.app import create_app
from tests.helpers.hub import HubUnderTest, hub_settings
from tests.helpers.plant import write_yaml


@pytest_asyncio.fixture
async def hub(tmp_path: Path, database_url: str) -> AsyncIterator[HubUnderTest]:
    settings = {**hub_settings(database_url), "photos": {"directory": str(tmp_path / "photos")}}
    config_path = write_yaml(tmp_path / "hub.yaml", settings)
    app = create_app(load_hub_config(config_path), config_path=config_path)
    async with app.router.lifespan_context(app):
        yield HubUnderTest(app, config_path)
