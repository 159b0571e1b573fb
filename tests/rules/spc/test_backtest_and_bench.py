"""``andon spc backtest`` on a history file, and ``andon bench spc``'s pinned keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from andon.cli import main
from rules.spc.arl import in_control_arl
from rules.spc.rule_sets import RuleSet
from tests.helpers.spc import spc_eval, write_csv

RULES = """\
characteristics:
  - id: bore
    chart: xbar-r
    phase1: 5
    lsl: 9.0
    usl: 11.0
  - id: torque
    chart: imr
    rules: western-electric
    tests: {2: 9}
    phase1: 20
  - id: scrap
    chart: p
  - id: never-measured
    chart: imr
"""


def _history(tmp_path: Path) -> Path:
    rng = np.random.default_rng(11)
    rows: list[list[object]] = []
    for group in range(12):
        shift = 0.8 if group >= 9 else 0.0
        for value in rng.normal(10 + shift, 0.2, size=4):
            rows.append(["bore", f"2026-11-01T{group:02d}:00:00Z", group, round(value, 3), "", ""])
    for point in range(40):
        value = rng.normal(5, 0.1) + (0.5 if point >= 30 else 0)
        rows.append(["torque", f"2026-11-02T00:{point:02d}:00Z", "", round(value, 3), "", ""])
    for point, count in enumerate([3, 4, 2, 5, 3, 14]):
        rows.append(["scrap", f"2026-11-03T{point:02d}:00:00Z", "", "", count, 50])
    rows.append(["unknown", "2026-11-03T00:00:00Z", "", "1", "", ""])
    header = ["characteristic", "timestamp", "subgroup", "value", "count", "size"]
    return write_csv(tmp_path / "history.csv", header, rows)


def _backtest(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["spc", "backtest", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_backtest_reports_alarms_per_characteristic_as_eval_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = _history(tmp_path)
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    plot = tmp_path / "chart.png"
    code, out, err = _backtest(
        capsys, "--rules", str(rules), "--data", str(history), "--plot", str(plot), "--json"
    )
    assert code == 0, err
    report: dict[str, Any] = json.loads(out)
    by_id = {item["id"]: item for item in report["characteristics"]}
    assert report["not_in_rule_file"] == ["unknown"]
    assert by_id["never-measured"]["points"] == 0

    torque_rows = [
        line.split(",") for line in history.read_text().splitlines() if line.startswith("torque")
    ]
    torque_csv = write_csv(tmp_path / "torque.csv", ["value"], [[r[3]] for r in torque_rows])
    direct = spc_eval(
        capsys,
        "--chart",
        "imr",
        "--input",
        str(torque_csv),
        "--phase1",
        "20",
        "--rules",
        "western-electric",
        "--test-param",
        "2=9",
    )
    torque = by_id["torque"]
    assert torque["alarms"] == {k: len(v) for k, v in direct["violations"].items()}
    flagged = sorted({i for v in direct["violations"].values() for i in v})
    assert flagged, "the planted shift must be found"
    assert torque["first_alarm"]["index"] == flagged[0]
    assert torque["first_alarm"]["timestamp"] == torque_rows[flagged[0]][1]
    assert torque["last_alarm"]["index"] == flagged[-1]
    assert torque["in_control_arl"]["method"] == "simulation"
    assert 20 < torque["in_control_arl"]["value"] < 400

    bore = by_id["bore"]
    assert bore["points"] == 12
    assert bore["first_alarm"]["timestamp"].startswith("2026-11-01T")
    assert "capability" in bore
    assert by_id["scrap"]["alarms"]["1"] == 1
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_backtest_arl_falls_as_tests_are_added(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = _history(tmp_path)
    arls = {}
    for rule_set in ("western-electric", "nelson"):
        rules = tmp_path / f"{rule_set}.yaml"
        rules.write_text(
            f"characteristics:\n  - id: torque\n    chart: imr\n    rules: {rule_set}\n"
        )
        code, out, _ = _backtest(capsys, "--rules", str(rules), "--data", str(history), "--json")
        assert code == 0
        arl = json.loads(out)["characteristics"][0]["in_control_arl"]
        assert arl["method"] == "simulation"
        assert arl["censored"] == 0
        arls[rule_set] = arl["value"]
    assert arls["nelson"] < arls["western-electric"]  # more tests, earlier false alarms


def test_arl_of_test_1_alone_is_the_theoretical_370() -> None:
    theory = in_control_arl(RuleSet({1: 3.0}), seed=1)
    assert theory.method.startswith("theory")
    assert theory.arl == pytest.approx(370.398, abs=1e-3)
    simulated = in_control_arl(RuleSet({1: 3.0, 7: 15}), seed=1)
    assert simulated.arl is not None
    assert simulated.arl < 370


def test_backtest_rule_file_typo_is_reported_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("characteristics:\n  - id: bore\n    chart: xbar-r\n    nsigma: 3\n")
    code, out, err = _backtest(capsys, "--rules", str(rules), "--data", str(_history(tmp_path)))
    assert code == 2
    assert out == ""
    assert f"{rules}:4: characteristics[0].nsigma: unknown key" in err


def _table_rows(out: str) -> list[list[str]]:
    """The table's rows below its heading, split on runs of two spaces or more."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("characteristic"))
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip() or ": " in line:
            break
        rows.append([cell for cell in line.strip().split("  ") if cell.strip()])
    return [[cell.strip() for cell in row] for row in rows]


def test_backtest_prints_a_table_of_alarms_arl_and_rounded_capability(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = _history(tmp_path)
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    code, out, _ = _backtest(capsys, "--rules", str(rules), "--data", str(history), "--json")
    assert code == 0
    report = {item["id"]: item for item in json.loads(out)["characteristics"]}
    code, out, err = _backtest(capsys, "--rules", str(rules), "--data", str(history))
    assert code == 0, err
    assert out.splitlines()[0] == "rules.yaml on history.csv"
    rows = {row[0]: row for row in _table_rows(out)}
    torque = rows["torque"]
    assert torque[1:3] == ["imr", "40"]
    assert int(torque[3]) <= sum(report["torque"]["alarms"].values())
    assert int(torque[3]) > 0
    assert torque[5] == str(report["torque"]["first_alarm"]["index"])
    assert float(torque[6]) == pytest.approx(report["torque"]["in_control_arl"]["value"], abs=0.5)
    bore = rows["bore"]
    capability = report["bore"]["capability"]
    assert bore[-4:] == [f"{capability[key]:.2f}" for key in ("cp", "cpk", "pp", "ppk")]
    assert rows["scrap"][-4:] == ["-"] * 4
    assert "no rows in the history: never-measured" in out
    assert "in the history but not in the rule file: unknown" in out


def test_backtest_compares_two_rule_files_on_the_same_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = _history(tmp_path)
    files = {}
    for rule_set in ("western-electric", "nelson"):
        files[rule_set] = tmp_path / f"{rule_set}.yaml"
        files[rule_set].write_text(
            f"characteristics:\n  - id: torque\n    chart: imr\n    rules: {rule_set}\n"
        )
    with files["nelson"].open("a") as nelson:  # a characteristic the first file lacks
        nelson.write("  - id: scrap\n    chart: p\n")
    alone = {}
    for rule_set, path in files.items():
        code, out, _ = _backtest(capsys, "--rules", str(path), "--data", str(history), "--json")
        assert code == 0
        alone[rule_set] = json.loads(out)
    both = ["--rules", str(files["western-electric"]), "--compare", str(files["nelson"])]
    code, out, _ = _backtest(capsys, *both, "--data", str(history), "--json")
    assert code == 0
    compared = json.loads(out)
    assert compared["rules"] == {
        "file": str(files["western-electric"]),
        **alone["western-electric"],
    }
    assert compared["compare"] == {"file": str(files["nelson"]), **alone["nelson"]}

    code, out, _ = _backtest(capsys, *both, "--data", str(history))
    assert code == 0
    rows = _table_rows(out)
    # The second file's row leaves the characteristic blank: its first cell is the file.
    assert [row[:2] for row in rows] == [
        ["torque", "western-electric.yaml"],
        ["nelson.yaml", "imr"],
        ["scrap", "nelson.yaml"],
    ]
    arls = [float(rows[0][7]), float(rows[1][6])]
    expected = [alone[r]["characteristics"][0]["in_control_arl"]["value"] for r in files]
    assert arls == pytest.approx(expected, abs=0.5)  # rounded to a point above 100
    assert arls[1] < arls[0]  # the engineer's question: more tests, more false alarms


def test_backtest_compare_tells_two_rule_files_of_one_name_apart_by_their_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [tmp_path / folder / "rules.yaml" for folder in ("old", "new")]
    for path, rule_set in zip(paths, ("western-electric", "nelson"), strict=True):
        path.parent.mkdir()
        path.write_text(
            f"characteristics:\n  - id: torque\n    chart: imr\n    rules: {rule_set}\n"
        )
    code, out, _ = _backtest(
        capsys, "--rules", str(paths[0]), "--compare", str(paths[1]),
        "--data", str(_history(tmp_path)),
    )  # fmt: skip
    assert code == 0
    rows = _table_rows(out)
    assert [rows[0][1], rows[1][0]] == [str(paths[0]), str(paths[1])]


def test_backtest_compare_refuses_a_wrong_second_file_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("characteristics:\n  - id: bore\n    chart: imr\n")
    bad.write_text("characteristics:\n  - id: bore\n    chart: imr\n    lsl: 2\n    usl: 1\n")
    code, out, err = _backtest(
        capsys, "--rules", str(good), "--compare", str(bad), "--data", str(_history(tmp_path))
    )
    assert (code, out) == (2, "")
    assert f"{bad}:5: characteristics[0].usl: expected above lsl (2); got 1" in err


def test_bench_prints_the_pinned_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "spc", "--json", "--characteristics", "200", "--points", "100"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"batch", "streaming", "reference"}
    assert {"seconds", "points_per_s", "floor_seconds", "ratio_to_floor"} <= set(result["batch"])
    assert {"median_ms", "p99_ms"} <= set(result["streaming"])
    assert {"speedup", "points"} <= set(result["reference"])
    assert result["reference"]["points"] == 200 * 100  # all of them: fewer than 100,000
