"""One way to start and stop a server of the test bed.

A server listens on loopback, on a port that was free when it was made (or, for a pty
pair, at a path in a folder of its own). ``start()`` returns once it accepts, and stops
what it launched if it never does; ``stop()`` stops only what this object started and
may be called twice, or before any start; ``with server:`` does both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

LOOPBACK = "127.0.0.1"


class LocalServer(ABC):
    """A server that a test, a benchmark or the demo starts and stops itself."""

    def start(self) -> None:
        """Launch the server and wait until it accepts."""
        self._launch()
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    @abstractmethod
    def stop(self) -> None:
        """Stop what ``start()`` launched, and wait for it; nothing when nothing runs."""

    @property
    @abstractmethod
    def address(self) -> str:
        """Where a client reaches it: ``host:port``, a URL or a device path."""

    @abstractmethod
    def _launch(self) -> None:
        """Start the process or thread that serves, without waiting for it."""

    @abstractmethod
    def _wait_until_ready(self) -> None:
        """Return once the server accepts; raise if it does not in good time."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
