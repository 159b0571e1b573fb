"""Waiting for what the hub sends, and reading the escalation rows of a call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select

from hub.calls.repository import Store
from hub.db.tables import escalations, notifications
from tests.receiver import Received, Receiver

T = TypeVar("T")


async def until(probe: Callable[[], T], *, within: float = 15.0, what: str = "it") -> T:
    """Poll ``probe`` on the event loop until it is truthy; fail after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last seen {value!r}")
        await asyncio.sleep(0.05)


async def received(receiver: Receiver, count: int, *, within: float = 15.0) -> list[Received]:
    await until(lambda: len(receiver.received) >= count, within=within, what=f"{count} msgs")
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
