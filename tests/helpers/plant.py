"""Helpers for whole-system tests: write configs, run andon processes, wait for state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml

from tests.helpers.waiting import wait_until

T = TypeVar("T")

ANDON = [sys.executable, "-m", "andon.cli"]
# How long a hub may take to answer /healthz with 200: it starts its measurement process
# and subscribes it, and on PostgreSQL runs its migrations first; with three test
# workers on a 2-core CI machine that once took more than 15 s.
HUB_START_S = 60.0
# The processes started during the running test, whose logs a failure report shows.
STARTED: list[AndonProcess] = []


def wait_hub_healthy(api: httpx.Client, *, what: str = "hub up") -> None:
    """Until the hub behind ``api`` (a client with its base URL) answers /healthz with 200."""
    wait_until(lambda: api.get("/healthz").status_code == 200, timeout=HUB_START_S, what=what)


def measurement_messages(metrics: str, outcome: str) -> float:
    """How many measurement messages a hub counted with ``outcome`` (stored, duplicate,
    dropped, rejected), from the text of its /metrics; 0 before the first."""
    name = f'andon_hub_measurement_messages_total{{outcome="{outcome}"}} '
    for line in metrics.splitlines():
        if line.startswith(name):
            return float(line.split()[-1])
    return 0.0


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


class AndonProcess:
    """``andon <command> --config FILE`` as a child process with its log in a file."""

    def __init__(
        self, command: str, config: Path, log_path: Path, *, umask: int | None = None
    ) -> None:
        self.args = [*ANDON, command, "--config", str(config)]
        self.log_path = log_path
        self.umask = -1 if umask is None else umask  # -1: Popen keeps the test's own
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.args,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.log_path.parent,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            umask=self.umask,
        )
        log.close()
        STARTED.append(self)

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(sig)
        try:
            return process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        """The last ``lines`` lines of the log, or why there are none."""
        try:
            return "\n".join(self.log().splitlines()[-lines:])
        except OSError as exc:
            return f"(no log: {exc})"


def create_tokens(hub_config: Path, wanted: dict[str, tuple[str, list[str]]]) -> dict[str, str]:
    """New API tokens, name: (role, lines), made the way ``andon token create`` makes them
    but in this process: one interpreter start and one migration for all of them, where
    each ``andon token create`` takes seconds on a loaded machine. A test of the command
    itself uses ``create_token``."""
    from andon.admin_commands import ACTOR, open_store
    from contract.wire import utc_now
    from hub.access.permissions import Role
    from hub.access.tokens import TokenStore

    store = open_store(hub_config)
    try:
        tokens = TokenStore(store)
        return {
            name: tokens.create(name=name, role=Role(role), lines=lines, actor=ACTOR, now=utc_now())
            for name, (role, lines) in wanted.items()
        }
    finally:
        store.engine.dispose()


def create_token(hub_config: Path, name: str, role: str, *lines: str) -> str:
    """A new API token made through ``andon token create``; its text is the last line."""
    line_args = [arg for line in lines for arg in ("--line", line)]
    done = subprocess.run(
        [*ANDON, "token", "create", "--config", str(hub_config), "--name", name,
         "--role", role, *line_args],
        capture_output=True,
        text=True,
        check=True,
        cwd=hub_config.parent,
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]
