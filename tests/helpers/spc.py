"""Run ``andon spc ...`` as a user would and read its JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from andon.cli import main


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    lines = [",".join(header)] + [",".join(str(cell) for cell in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def subgroup_csv(path: Path, groups: Sequence[Sequence[float]]) -> Path:
    rows = [(index + 1, value) for index, group in enumerate(groups) for value in group]
    return write_csv(path, ["subgroup", "value"], rows)


def spc_eval(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code = main(["spc", "eval", *args, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result: dict[str, Any] = json.loads(captured.out)
    return result


def spc_eval_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(["spc", "eval", *args, "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]
