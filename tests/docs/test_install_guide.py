"""Every command of docs/install.md, run in a scratch directory standing in for the
server: /etc/andon, /opt/andon, /var/lib/andon and the system folders are moved there.

The commands that change the machine itself (packages, users, services, containers) are
not run; each is listed in NOT_RUN with the reason, and a command the guide gains that
is in neither list fails the test. Then the hub and the edge start from the files the
guide made, against a Mosquitto standing in for the one the guide installs, and must
come up: the hub healthy, the edge online at the hub."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from contract.netutil import free_port
from testbed.broker import MosquittoBroker
from tests.helpers.plant import AndonProcess, create_token, wait_hub_healthy
from tests.helpers.waiting import wait_until

ROOT = Path(__file__).parents[2]
GUIDE = ROOT / "docs" / "install.md"

NOT_RUN = {
    "apt-get install": "installs packages; scripts/bootstrap.sh made this machine's",
    "bash /opt/andon/scripts/bootstrap.sh": "made the environment this test runs in",
    "useradd": "adds a system user to the machine",
    "chgrp andon": "the andon group comes with the user useradd adds",
    "systemctl": "no running systemd here (the units are verified offline)",
    "git -C /opt/andon pull": "fetches from the network",
    "docker compose": "no container engine here (tests/deploy/test_compose.py checks the file)",
}


def guide_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def sandbox(tmp_path: Path) -> dict[str, str]:
    """The stand-in folders, and a copy of the checkout's config/ and deploy/ whose
    paths point into them."""
    moves = {
        "/etc/andon": tmp_path / "etc-andon",
        "/etc/systemd/system": tmp_path / "systemd",
        "/etc/mosquitto": tmp_path / "etc-mosquitto",
        "/var/lib/andon": tmp_path / "var-lib-andon",
        "/opt/andon": tmp_path / "opt-andon",
        "/usr/local/bin": tmp_path / "usr-local-bin",
    }
    folders = ("systemd", "etc-mosquitto/certs", "etc-mosquitto/conf.d", "var-lib-andon")
    for folder in (*folders, "usr-local-bin"):
        (tmp_path / folder).mkdir(parents=True)
    opt = moves["/opt/andon"]
    for folder in ("config", "deploy"):
        shutil.copytree(ROOT / folder, opt / folder)
    (opt / ".venv" / "bin").mkdir(parents=True)
    (opt / ".venv" / "bin" / "andon").symlink_to(Path(sys.executable).parent / "andon")
    for path in opt.rglob("*"):
        if path.is_file() and path.suffix in {".yaml", ".service"}:
            path.write_text(move(path.read_text(), moves))
    return {old: str(new) for old, new in moves.items()}


def on_loopback(opt: Path, *, broker_port: int, api_port: int) -> None:
    """The one step that is not the guide's: the examples' standard ports become free
    loopback ports of this test (a test's servers listen on loopback only)."""
    for name in ("hub.yaml", "edge-line1.yaml"):
        path = opt / "config" / "examples" / name
        text = path.read_text().replace("  port: 1883\n", f"  port: {broker_port}\n")
        path.write_text(
            text.replace(
                "  host: 0.0.0.0\n  port: 8000\n", f"  host: 127.0.0.1\n  port: {api_port}\n"
            )
        )


def move(text: str, moves: dict[str, Path] | dict[str, str]) -> str:
    for old, new in moves.items():
        text = text.replace(old, str(new))
    return text


def test_every_command_of_the_install_guide_is_run_or_listed(tmp_path: Path) -> None:
    commands = guide_commands()
    assert len(commands) > 20
    skipped = [c for c in commands if any(c.startswith(prefix) for prefix in NOT_RUN)]
    assert {p for p in NOT_RUN if any(c.startswith(p) for c in skipped)} == set(NOT_RUN)
    moves = sandbox(tmp_path)
    broker_port, api_port = free_port(), free_port()
    on_loopback(Path(moves["/opt/andon"]), broker_port=broker_port, api_port=api_port)
    script = ["set -euo pipefail", *(move(c, moves) for c in commands if c not in skipped)]
    # `andon` on the PATH through the guide's own link, not through this test's.
    path = f"{moves['/usr/local/bin']}{os.pathsep}{os.environ['PATH']}"
    env = {**os.environ, "PATH": path.replace(f"{Path(sys.executable).parent}{os.pathsep}", "")}
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=tmp_path, capture_output=True, text=True,
        timeout=300, check=False, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    etc = Path(moves["/etc/andon"])
    the_plant_starts(etc, tmp_path, broker_port=broker_port, api_port=api_port)
    assert (etc / "mosquitto" / "secrets" / "edge-line1.password").exists()
    assert (Path(moves["/var/lib/andon"]) / "hub.sqlite3").exists()
    compose = Path(moves["/opt/andon"]) / "deploy" / "compose"
    conf = (compose / "mosquitto" / "mosquitto.conf").read_text()
    assert "password_file /mosquitto/andon/passwd" in conf
    assert (Path(moves["/etc/mosquitto"]) / "conf.d" / "andon.conf").resolve().exists()


def the_plant_starts(etc: Path, tmp_path: Path, *, broker_port: int, api_port: int) -> None:
    """The hub and the edge, run from the files the guide made, come up."""
    with MosquittoBroker(tmp_path / "mosquitto", port=broker_port):
        hub = AndonProcess("hub", etc / "hub.yaml", tmp_path / "hub.log")
        edge = AndonProcess("edge", etc / "edge-line1.yaml", tmp_path / "edge.log")
        hub.start()
        edge.start()
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=5) as api:
                wait_hub_healthy(api, what=f"the guide's hub healthy; log:\n{hub.log_tail()}")
                token = create_token(etc / "hub.yaml", "guide-check", "viewer")
                auth = {"Authorization": f"Bearer {token}"}

                def edge_online() -> bool:
                    edges = api.get("/api/edges", headers=auth).json()["edges"]
                    return any(
                        e["edge_id"] == "edge-line1" and e["status"] == "online" for e in edges
                    )

                wait_until(edge_online, timeout=30, what=f"edge online; log:\n{edge.log_tail()}")
        finally:
            edge.stop()
            hub.stop()
