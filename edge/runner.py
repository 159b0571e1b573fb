"""Run an edge agent as a process: stop on SIGTERM or SIGINT, reload on SIGHUP.

The process runs on uvloop where it is installed (every platform but Windows): the agent
spends its time in small callbacks (a Modbus response, a PUBACK, a timer), and uvloop's
loop costs less per callback than asyncio's own (the edge benchmark read about 5 % less
CPU: docs/benchmarks.md). Tests that run an agent inside their own process run it on
asyncio's loop; those that start ``andon edge`` run it on uvloop.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from pathlib import Path

from edge.agent import EdgeAgent
from edge.config import EdgeConfig

# A stop that has not finished by then (it should take well under a second) is forced.
FORCE_STOP_AFTER_S = 3.0


def serve_edge(config: EdgeConfig, *, config_path: Path | None = None) -> None:
    """Run the agent until it is stopped, on uvloop if it is installed."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(run_edge(config, config_path=config_path))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None  # asyncio's own loop
    return uvloop.new_event_loop


async def run_edge(config: EdgeConfig, *, config_path: Path | None = None) -> None:
    task = asyncio.current_task()
    assert task is not None
    agent = EdgeAgent(config, config_path=config_path)
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.TimerHandle] = []

    def stop() -> None:
        if stopping:  # a second signal: stop now
            task.cancel()
            return
        agent.stop()
        stopping.append(loop.call_later(FORCE_STOP_AFTER_S, task.cancel))

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    loop.add_signal_handler(signal.SIGHUP, agent.reload)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await agent.run()
    finally:
        for handle in stopping:
            handle.cancel()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(signum)
