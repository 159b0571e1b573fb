"""Every command of docs/install.md, run in a scratch directory standing in for the
server: /etc/andon, /opt/andon, /var/lib/andon and the system folders are moved there.

The commands that change the machine itself (packages, users, services, containers) are
not run; each is listed in NOT_RUN with the reason, and a command the guide gains that
is in neither list fails the test."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
GUIDE = ROOT / "docs" / "install.md"

NOT_RUN = {
    "apt-get install": "installs packages; scripts/bootstrap.sh made this machine's",
    "bash /opt/andon/scripts/bootstrap.sh": "made the environment this test runs in",
    "useradd": "adds a system user to the machine",
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
    }
    for folder in ("systemd", "etc-mosquitto/certs", "etc-mosquitto/conf.d", "var-lib-andon"):
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
    script = ["set -euo pipefail", *(move(c, moves) for c in commands if c not in skipped)]
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=tmp_path, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    etc = Path(moves["/etc/andon"])
    assert (etc / "mosquitto" / "secrets" / "edge-line1.password").exists()
    assert (Path(moves["/var/lib/andon"]) / "hub.sqlite3").exists()
    compose = Path(moves["/opt/andon"]) / "deploy" / "compose"
    conf = (compose / "mosquitto" / "mosquitto.conf").read_text()
    assert "password_file /mosquitto/andon/passwd" in conf
    assert (Path(moves["/etc/mosquitto"]) / "conf.d" / "andon.conf").resolve().exists()
