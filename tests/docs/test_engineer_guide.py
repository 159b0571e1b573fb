"""Every command of docs/engineer-guide.md, run in order in a scratch directory.

An output block (```text) after a command block must be exactly what the commands
printed; a JSON block must be a part of the JSON file the command before it wrote. A
command line ending in ``# exit status N`` must exit with N. Commands that change the
machine itself are listed in NOT_RUN with the reason."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[2]
GUIDE = ROOT / "docs" / "engineer-guide.md"
NOT_RUN = {"systemctl": "no running systemd here (tests/edge/test_edge_reload.py reloads an agent)"}
EXPECTED_STATUS = re.compile(r"#\s*exit status (\d+)\s*$")


def guide_blocks() -> list[tuple[str, str]]:
    """The fenced blocks of the guide, in order: (language, text)."""
    return re.findall(r"```(\w+)\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)


def _script(commands: str, moves: dict[str, str]) -> tuple[str, int]:
    lines = [line for line in commands.splitlines() if line.strip()]
    lines = [line for line in lines if not any(line.startswith(p) for p in NOT_RUN)]
    match = EXPECTED_STATUS.search(lines[-1]) if lines else None
    body = "\n".join(lines[:-1] if match else lines)
    last = lines[-1] if match else "true"
    for old, new in moves.items():
        body, last = body.replace(old, new), last.replace(old, new)
    script = (
        f'set -eo pipefail\n{body}\nset +e\n{last}\nstatus=$?\npwd > "$GUIDE_CWD"\nexit $status'
    )
    return script, int(match.group(1)) if match else 0


def is_part_of(part: Any, whole: Any) -> bool:
    """``part`` is ``whole`` with some keys of its objects left out."""
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(
            key in whole and is_part_of(value, whole[key]) for key, value in part.items()
        )
    if isinstance(part, list):
        return (
            isinstance(whole, list)
            and len(part) == len(whole)
            and all(is_part_of(p, w) for p, w in zip(part, whole, strict=True))
        )
    return bool(part == whole)


def test_every_command_of_the_engineer_guide_runs_and_prints_what_it_shows(
    tmp_path: Path,
) -> None:
    blocks = guide_blocks()
    moves = {"/opt/andon": str(ROOT), "/etc/andon": str(tmp_path / "etc-andon")}
    (tmp_path / "etc-andon").mkdir()
    cwd_file = tmp_path / "cwd"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GUIDE_CWD": str(cwd_file),
    }
    cwd, output, commands, checked = tmp_path, "", "", 0
    for language, text in blocks:
        if language == "sh":
            script, status = _script(text, moves)
            done = subprocess.run(
                ["bash", "-c", script], cwd=cwd, env=env, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, timeout=300, check=False,
            )  # fmt: skip
            assert done.returncode == status, f"{text}\n{done.stdout}"
            cwd, output, commands = Path(cwd_file.read_text().strip()), done.stdout, text
        elif language == "text":
            assert output.strip() == text.strip(), f"after:\n{commands}"
            checked += 1
        elif language == "json" and commands:
            written = re.findall(r">\s*(\S+\.json)\s*$", commands, flags=re.MULTILINE)
            assert written, f"a JSON block follows commands that wrote no JSON file:\n{commands}"
            assert is_part_of(json.loads(text), json.loads((cwd / written[-1]).read_text()))
            checked += 1
    assert checked >= 5  # the guide shows what the commands print
    assert (cwd / "history.png").stat().st_size > 0
    assert (tmp_path / "etc-andon" / "spc-rules-cnc1.yaml").exists()


def test_a_wrong_output_in_the_guide_would_be_caught() -> None:
    report = {"characteristics": [{"id": "flatness", "points": 80, "alarms": {"2": 3}}]}
    assert is_part_of({"characteristics": [{"id": "flatness"}]}, report)
    assert not is_part_of({"characteristics": [{"id": "flatness", "points": 81}]}, report)
    assert not is_part_of({"characteristics": []}, report)
