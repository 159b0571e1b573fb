"""Run an edge agent as a process: stop cleanly on SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from edge.agent import EdgeAgent
from edge.config import EdgeConfig


async def run_edge(config: EdgeConfig) -> None:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await EdgeAgent(config).run()
