"""The README's first command: the demo plant raises calls and Ctrl-C stops all of it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from contract.netutil import free_port
from tests.plant import wait_until

pytestmark = pytest.mark.system


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _running(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return False
    state = next(line for line in status.read_text().splitlines() if line.startswith("State:"))
    return "Z" not in state.split()[1]


def test_demo_plant_raises_calls_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "andon.cli", "demo", "--port", str(port), "--press-every", "0.5"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as api:
            calls = wait_until(lambda: api.get("/api/calls").json(), timeout=30, what="a demo call")
            assert calls[0]["site"] == "demo-plant"
            assert api.get("/docs").status_code == 200
            assert api.get("/openapi.json").json()["info"]["title"] == "Andon hub"
        broker_pid = _children(demo.pid)
        assert broker_pid, "the demo runs Mosquitto as a child process"
        demo.send_signal(signal.SIGINT)
        output, _ = demo.communicate(timeout=30)
    finally:
        if demo.poll() is None:
            # The broker runs in its own session: a killed demo would leave it behind.
            children = _children(demo.pid)
            demo.kill()
            demo.wait()
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if demo.stdout is not None:
            demo.stdout.close()
    assert demo.returncode == 0, output
    assert b"demo stopped" in output
    assert not any(_running(pid) for pid in broker_pid)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
