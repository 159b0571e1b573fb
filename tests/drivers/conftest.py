"""Fixtures of the serial driver tests: a real pty pair from socat per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.ptys import PtyPair


@pytest.fixture
def pty_pair(tmp_path: Path) -> Iterator[PtyPair]:
    pair = PtyPair(tmp_path)
    try:
        pair.start()
        yield pair
    finally:
        pair.stop()


@pytest.fixture
def stopped_pty_pair(tmp_path: Path) -> Iterator[PtyPair]:
    """A pair the test starts itself (the port is missing until then)."""
    pair = PtyPair(tmp_path)
    try:
        yield pair
    finally:
        pair.stop()
