"""Two engines on one database (two hubs of a site) send every step once between them."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from pathlib import Path

import pytest

from contract.wire import utc_now
from hub.calls.lifecycle import Actor, Source
from hub.calls.repository import Store
from hub.config.file import load_hub_config
from hub.db.engine import open_engine
from hub.escalation.engine import EscalationEngine
from tests.helpers.escalation import announce, attempts, escalation_settings, received, running_hub
from tests.helpers.plant import write_yaml
from tests.helpers.receiver import Receiver
from tests.helpers.waiting import until

pytestmark = pytest.mark.asyncio

ROUNDS = 4
ACTOR = Actor("test", Source.API)
LEVELS = [
    {"after_s": 0, "notify": ["person:li-wei"]},
    {"after_s": 1, "notify": ["person:zhang-min"]},
]


async def test_two_engines_on_one_database_send_each_step_once(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    path = write_yaml(
        tmp_path / "hub.yaml", escalation_settings(database_url, receiver, levels=LEVELS)
    )
    config = load_hub_config(path)
    other_store = Store(open_engine(database_url))
    other = EscalationEngine(store=other_store, config=lambda: config, tick_s=0.05)
    async with running_hub(path) as hub:
        task = asyncio.create_task(other.run(), name="second-hub-escalation")
        try:
            presses = [("st10", "line1"), ("st20", "line1"), ("st30", "line2")]
            for round_ in range(ROUNDS):
                announce(hub, *(hub.press(s, line=line) for s, line in presses))
                await received(receiver, 3 * (round_ + 1))
                if round_ < ROUNDS - 1:  # cancelled: a new call at each station next round
                    for call in hub.store_calls():
                        if call.state == "raised":
                            hub.store.transition(call.id, "cancel", utc_now(), actor=ACTOR)
            await received(receiver, 3 * ROUNDS + 3)  # and the last round's level 1
            # Every outcome recorded: no send is left in flight to arrive twice.
            await until(
                lambda: [a["status"] for a in attempts(hub.store)] == ["sent"] * (3 * ROUNDS + 3),
                what="every outcome recorded",
            )
        finally:
            other.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            other_store.engine.dispose()
        log = attempts(hub.store)
    keys = Counter(r.headers["Idempotency-Key"] for r in receiver.received)
    assert len(keys) == 3 * ROUNDS + 3
    assert set(keys.values()) == {1}  # none twice
    assert len(log) == 3 * ROUNDS + 3
    assert {a["attempt"] for a in log} == {1}
