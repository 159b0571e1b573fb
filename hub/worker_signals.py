"""A terminal's Ctrl-C reaches the hub's worker processes too; only the hub may stop them.

A Ctrl-C goes to the whole foreground process group. A worker that took it would die
mid-batch (the ingest worker) or mid-import, with a traceback, while the hub is already
stopping it in order. So a worker is spawned with SIGINT blocked (a signal mask survives
fork and exec, unlike a handler) and ignores it from its first line of its own code on.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


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
