"""The systemd units in deploy/systemd/ pass ``systemd-analyze verify`` and score as
hardened, and the hub speaks systemd's notify and watchdog protocol."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from contract.netutil import free_port
from tests.helpers.deploy import hub_file

UNITS = Path(__file__).parents[2] / "deploy" / "systemd"
INSTALLED_ANDON = "/opt/andon/.venv/bin/andon"
# systemd-analyze's scale: up to 2 is "OK", 10 is a service with no hardening at all.
MOST_EXPOSURE = 3.0

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


def installed_copy(unit: Path, directory: Path) -> Path:
    """``unit`` as it would run from this checkout: verify checks that ExecStart exists,
    and the units name the path of an installation (/opt/andon) this machine lacks."""
    directory.mkdir(exist_ok=True)
    text = unit.read_text()
    assert INSTALLED_ANDON in text
    andon = Path(sys.executable).parent / "andon"
    copy = directory / unit.name
    copy.write_text(text.replace(INSTALLED_ANDON, str(andon)))
    return copy


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("name", ["andon-hub.service", "andon-edge@.service"])
def test_the_unit_passes_systemd_analyze_verify(name: str, tmp_path: Path) -> None:
    done = verify(installed_copy(UNITS / name, tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    copy = installed_copy(UNITS / "andon-hub.service", tmp_path)
    copy.write_text(copy.read_text().replace("Restart=on-failure", "Restart=sometimes"))
    done = verify(copy)
    assert "Failed to parse service restart specifier" in done.stderr


@pytest.mark.parametrize("name", ["andon-hub.service", "andon-edge@.service"])
def test_the_unit_is_hardened(name: str, tmp_path: Path) -> None:
    unit = installed_copy(UNITS / name, tmp_path)
    text = unit.read_text()
    for setting in (
        "ProtectSystem=strict",
        "NoNewPrivileges=true",
        "PrivateTmp=true",
        "User=andon",
    ):
        assert setting in text
    done = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(unit)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert found is not None, done.stdout + done.stderr
    assert float(found[1]) <= MOST_EXPOSURE


def receive(sock: socket.socket, wanted: str) -> list[str]:
    """Notifications until ``wanted`` arrives."""
    seen: list[str] = []
    while wanted not in seen:
        seen.append(sock.recv(4096).decode())
    return seen


def test_the_hub_tells_systemd_it_is_ready_and_pings_its_watchdog(tmp_path: Path) -> None:
    config = hub_file(tmp_path / "hub.yaml")
    text = config.read_text()
    api_port = free_port()
    # No broker listens: /healthz says 503, and the API answering is what the ping needs.
    config.write_text(
        text.replace("broker:\n", f"api:\n  port: {api_port}\nbroker:\n  port: {free_port()}\n")
    )
    address = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(address)
        sock.settimeout(30)
        env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "400000"}
        hub = subprocess.Popen(
            [sys.executable, "-m", "andon.cli", "hub", "--config", str(config)],
            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            seen = receive(sock, "READY=1")
            seen += receive(sock, "WATCHDOG=1")
            seen += receive(sock, "WATCHDOG=1")
        finally:
            hub.terminate()
            hub.wait(timeout=30)
    assert seen.index("READY=1") < seen.index("WATCHDOG=1")
