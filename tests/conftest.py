"""Fixtures that start real parts: a Mosquitto broker and a Modbus TCP PLC simulator."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from andon.broker import MosquittoBroker
from andon.plc_sim import SimulatedPlc


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    with MosquittoBroker(tmp_path / "mosquitto") as started:
        yield started


@pytest.fixture
def plc() -> Iterator[SimulatedPlc]:
    with SimulatedPlc() as started:
        yield started


@pytest.fixture
def topic_prefix() -> str:
    """A prefix of its own for each test, so no test sees another's messages."""
    return f"t{uuid.uuid4().hex[:12]}"
