"""The hub's worker processes (ingest, measurements): started one way, stopped by the hub.

A worker is spawned, not forked: the hub runs threads (the API's), which a fork would copy
in whatever state they are in. It gets its settings and the hub's log level as arguments
and talks to the hub through a pipe.

A terminal's Ctrl-C reaches the hub's worker processes too; only the hub may stop them.
A Ctrl-C goes to the whole foreground process group. A worker that took it would die
mid-batch (the ingest worker) or mid-import, with a traceback, while the hub is already
stopping it in order. So a worker is spawned with SIGINT blocked (a signal mask survives
fork and exec, unlike a handler) and ignores it from its first line of its own code on.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

Serve = Callable[[Connection, dict[str, Any], int], None]
"""A worker's main function: (its end of the pipe, its settings, the hub's log level)."""


def start_worker(
    serve: Serve, *, name: str, settings: dict[str, Any], niceness: int = 0
) -> tuple[BaseProcess, Connection]:
    """Spawn ``serve`` in a process of its own: (the process, the hub's end of the pipe)."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(
        target=serve, args=(child, settings, logging.getLogger().level), name=name, daemon=True
    )
    with sigint_blocked():
        process.start()
    # Niced from here, at once, rather than once its imports are done.
    if niceness and process.pid is not None:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, process.pid, niceness)
    child.close()
    return process, parent


def begin_worker(log_level: int) -> None:
    """A worker's first line: Ctrl-C is the hub's to handle, and logs look like the hub's."""
    ignore_sigint()
    logging.basicConfig(level=log_level or logging.INFO, format=LOG_FORMAT)


@contextmanager
def sigint_blocked() -> Iterator[None]:
    """Around starting a worker: in this thread SIGINT waits, and the child inherits that."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def ignore_sigint() -> None:
    """In the worker: a Ctrl-C that came while it started, and every later one, is dropped."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
