"""``andon spc eval`` conventions and its one-line errors for bad input (exit status 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.spc import spc_eval, spc_eval_error, subgroup_csv, write_csv


def test_output_keys_are_the_pinned_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = subgroup_csv(tmp_path / "g.csv", [[1.0, 1.2, 0.9], [1.1, 1.0, 1.3], [0.8, 1.1, 1.0]])
    result = spc_eval(capsys, "--chart", "xbar-r", "--input", str(path))
    assert set(result) == {
        "chart",
        "center",
        "sigma",
        "statistic",
        "lcl",
        "ucl",
        "violations",
        "secondary",
    }
    assert result["chart"] == "xbar-r"
    assert isinstance(result["lcl"], list)
    assert len(result["lcl"]) == 3
    assert list(result["violations"]) == [str(n) for n in range(1, 9)]
    assert all(v == [] for v in result["violations"].values())
    assert result["secondary"]["chart"] == "r"
    none = spc_eval(capsys, "--chart", "xbar-r", "--input", str(path), "--rules", "none")
    assert none["violations"] == {}
    tuned = spc_eval(
        capsys,
        "--chart",
        "xbar-r",
        "--input",
        str(path),
        "--rules",
        "western-electric",
        "--test-param",
        "2=7",
        "--test-param",
        "3=5",
    )
    assert list(tuned["violations"]) == ["1", "2", "3", "5", "6"]


def test_test_1_follows_nsigmas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = [0.0, 0.5, -0.5, 0.2, -0.2, 0.4, -0.4, 0.1, 1.5]
    path = write_csv(tmp_path / "i.csv", ["value"], [[v] for v in values])
    at_three = spc_eval(capsys, "--chart", "imr", "--input", str(path), "--phase1", "8")
    at_two = spc_eval(
        capsys, "--chart", "imr", "--input", str(path), "--phase1", "8", "--nsigmas", "2"
    )
    assert at_two["ucl"][0] < at_three["ucl"][0]
    beyond_two = [i for i, v in enumerate(values) if v > at_two["ucl"][i]]
    assert at_two["violations"]["1"] == beyond_two


def test_text_summary_without_json(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", ["count"], [[3], [5], [4], [12]])
    result = subprocess.run(
        [sys.executable, "-m", "andon.cli", "spc", "eval", "--chart", "c", "--input", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("chart c: center 6.0")


@pytest.mark.parametrize(
    ("chart", "header", "rows", "message"),
    [
        ("imr", ["value"], [[1.0], ["abc"], [2.0]], "row 2, column 'value': 'abc' is not a number"),
        (
            "xbar-r",
            ["subgroup", "value"],
            [["a", 1.0], ["a", ""], ["b", 2.0]],
            "row 2, column 'value': empty cell; expected a number",
        ),
        ("imr", ["value"], [[1.0], ["nan"]], "row 2, column 'value': 'nan' is not a finite"),
        (
            "xbar-r",
            ["subgroup", "value"],
            [["a", 1.0], ["a", 2.0], ["b", 3.0], ["c", 1.0], ["c", 2.0]],
            "row 3, column 'subgroup': subgroup 'b' has only 1 value; an xbar-r chart needs at"
            " least 2 per subgroup",
        ),
        (
            "p",
            ["count", "size"],
            [[3, 50], [60, 50]],
            "row 2, column 'count': count 60 is above its size 50",
        ),
        (
            "np",
            ["count", "size"],
            [[3, 50], [2.5, 50]],
            "row 2, column 'count': '2.5' is not a whole number of at least 0",
        ),
        ("u", ["count", "size"], [[3, 0]], "row 1, column 'size': '0' must be above 0"),
        ("imr", ["measurement"], [[1.0]], "column 'value' is missing; the header has: measurement"),
        ("p", ["count"], [[1]], "column 'size' is missing"),
    ],
)
def test_bad_input_gets_one_line_naming_row_and_column(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    chart: str,
    header: list[str],
    rows: list[list[object]],
    message: str,
) -> None:
    path = write_csv(tmp_path / "bad.csv", header, rows)
    line = spc_eval_error(capsys, "--chart", chart, "--input", str(path))
    assert line.startswith(f"error: {path}: ")
    assert message in line


def test_empty_file_and_header_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "the file is empty" in spc_eval_error(capsys, "--chart", "imr", "--input", str(empty))
    header = tmp_path / "header.csv"
    header.write_text("value\n")
    assert "no data rows" in spc_eval_error(capsys, "--chart", "imr", "--input", str(header))
    missing = tmp_path / "missing.csv"
    assert "cannot read" in spc_eval_error(capsys, "--chart", "imr", "--input", str(missing))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--phase1", "9"], "phase I must be 1 to 3 points, not 9"),
        (["--test-param", "9=2"], "there is no test 9"),
        (["--test-param", "two"], "expected TEST=K"),
        (["--sigma", "-1"], "--sigma must be above 0"),
        (["--lsl", "5", "--usl", "4"], "LSL 5.0 must be below USL 4.0"),
        (["--sigma-method", "uwave-r"], "does not apply to individuals"),
    ],
)
def test_bad_options_get_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    path = write_csv(tmp_path / "i.csv", ["value"], [[1.0], [1.5], [0.7]])
    assert message in spc_eval_error(capsys, "--chart", "imr", "--input", str(path), *args)


def test_exit_status_two_from_the_real_command(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", ["value"], [["x"]])
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "andon.cli",
            "spc",
            "eval",
            "--chart",
            "imr",
            "--input",
            str(path),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1


def test_json_never_contains_nan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "i.csv", ["value"], [[1.0], [1.5], [0.7], [1.1]])
    result = spc_eval(capsys, "--chart", "imr", "--input", str(path))
    text = json.dumps(result)
    assert "NaN" not in text
    assert result["secondary"]["statistic"][0] is None
