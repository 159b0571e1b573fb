"""Start the independent Sparkplug B peer (tests/helpers/sparkplug_peer.py, pysparkplug in its own
venv) as a process, send it commands and read what it saw."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
PEER_PYTHON = ROOT / ".venv-sparkplug" / "bin" / "python"
PEER = Path(__file__).with_name("sparkplug_peer.py")

Seen = dict[str, Any]


class Peer:
    """``sparkplug_peer.py`` running; ``seen()`` is every line it printed, decoded."""

    def __init__(self, *args: str) -> None:
        if not PEER_PYTHON.exists():
            pytest.fail(f"{PEER_PYTHON} is missing: run scripts/bootstrap.sh --dev")
        self.process = subprocess.Popen(
            [str(PEER_PYTHON), str(PEER), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lines: list[Seen] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_for("the peer ready", lambda line: line.get("ready") is True)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._lock:
                self._lines.append(json.loads(line))

    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._lines)

    def send(self, command: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def wait_for(self, what: str, test: Callable[[Seen], bool], *, after: int = 0) -> Seen:
        def found() -> Seen | None:
            if self.process.poll() is not None:
                assert self.process.stderr is not None
                pytest.fail(f"the peer ended: {self.process.stderr.read()}")
            return next((line for line in self.seen()[after:] if test(line)), None)

        line = wait_until(found, timeout=30, what=what)
        assert line is not None
        return line

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def message(kind: str, device: str | None = None) -> Callable[[Seen], bool]:
    """A test for a Sparkplug message line of ``kind`` (and ``device``)."""
    return lambda line: line.get("type") == kind and line.get("device") == device


def metrics(line: Seen) -> dict[str, Seen]:
    return {metric["name"]: metric for metric in line["metrics"]}
