"""A pty pair from socat: two serial devices joined back to back, for the serial-line
tests and the reconnect benchmark (an RTU PLC switched off and on)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def pty_pair(folder: Path) -> Iterator[tuple[str, str]]:
    """Two linked pty paths; socat is stopped on exit, even if the block failed."""
    a, b = folder / "tty-a", folder / "tty-b"
    socat = subprocess.Popen(
        ["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not (a.exists() and b.exists()):
            if time.monotonic() > deadline or socat.poll() is not None:
                raise RuntimeError("socat did not make a pty pair")
            time.sleep(0.02)
        yield str(a), str(b)
    finally:
        socat.terminate()
        try:
            socat.wait(timeout=5)
        except subprocess.TimeoutExpired:
            socat.kill()
            socat.wait()
