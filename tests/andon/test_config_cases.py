"""Golden cases for ``andon check-config``: a wording change is a reviewed change."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CASES = Path(__file__).parent / "config_cases"
REPO = Path(__file__).parents[2]


# The cases check the files alone (--offline): their secrets and host names are examples.
# tests/andon/test_check_environment.py checks what a file needs from the machine.
@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_check_config_reports_exactly_the_expected_lines(case: str) -> None:
    folder = CASES / case
    files = sorted(path.name for path in folder.glob("*.yaml"))
    result = subprocess.run(
        [sys.executable, "-m", "andon.cli", "check-config", "--offline", *files],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    expected = (folder / "expected.txt").read_text()
    assert result.stdout == expected
    failed = any(
        not line.endswith(": ok") and ": warning: " not in line for line in expected.splitlines()
    )
    assert result.returncode == (1 if failed else 0)


def test_three_mistakes_are_reported_together_with_their_lines() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "andon.cli", "check-config", "--offline", "config.yaml"],
        cwd=CASES / "three_mistakes",
        capture_output=True,
        text=True,
        check=False,
    )
    lines = result.stdout.splitlines()
    assert [line.split(":")[1] for line in lines] == ["5", "10", "11"]
    assert result.returncode == 1


@pytest.mark.parametrize("path", sorted((REPO / "config").rglob("*.yaml")), ids=str)
def test_shipped_configuration_passes(path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "andon.cli", "check-config", "--offline", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_a_missing_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "andon.cli", "check-config", str(tmp_path / "nope.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "cannot read file: No such file or directory" in result.stdout
