"""A full measurement queue is checked and stored a bounded number of bytes at a time: the
writer used to take everything waiting at once, and held a whole queue's readings as
objects (hundreds of megabytes at 500 edges), memory the process kept afterwards."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from contract.wire import MeasurementEvent
from hub.measurements.repository import MeasurementStore
from hub.measurements.subscription import MAX_BYTES_PER_WRITE, MeasurementSubscriber
from hub.process.live_config import LiveConfig
from tests.helpers.hub import HubUnderTest
from tests.helpers.measurements import T0, message

pytestmark = pytest.mark.asyncio


COUNT = 1000  # about 2.4 kB each
READINGS = [{"station": "st10", "name": f"m{n}", "value": 10.0 + n} for n in range(50)]


async def test_a_full_queue_is_written_in_bounded_batches_and_every_message_stored(
    hub: HubUnderTest,
) -> None:
    live: LiveConfig = hub.app.state.config
    batches: list[list[tuple[MeasurementEvent, bytes]]] = []
    everything = asyncio.Event()

    def stored(batch: list[tuple[MeasurementEvent, bytes]]) -> None:
        batches.append(batch)
        if sum(len(each) for each in batches) >= COUNT:
            everything.set()

    subscriber = MeasurementSubscriber(
        config=lambda: live.current, store=MeasurementStore(hub.store), on_stored=stored
    )
    messages = [
        message(seq, at=T0 + timedelta(seconds=seq), readings=READINGS)
        for seq in range(1, COUNT + 1)
    ]
    largest = max(len(payload) for _, payload in messages)
    assert sum(len(payload) for _, payload in messages) > 3 * MAX_BYTES_PER_WRITE
    for item in messages:
        subscriber.queue.put_nowait(item)  # all waiting before the writer starts
    # No broker listens here: the writer drains the queue while the connection retries.
    running = asyncio.create_task(subscriber.run())
    async with asyncio.timeout(60):
        await everything.wait()
    subscriber.stop()
    await running
    assert len(batches) >= 3
    for batch in batches:
        assert sum(len(payload) for _, payload in batch) < MAX_BYTES_PER_WRITE + largest
    seqs = [event.seq for batch in batches for event, _ in batch]
    assert seqs == list(range(1, COUNT + 1))
