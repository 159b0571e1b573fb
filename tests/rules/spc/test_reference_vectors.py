"""The public reference vectors (Montgomery's data sets with qcc's outputs), reproduced
through ``andon spc eval``: to 1e-9 relative where no d2/d3 constant is involved, and to
5e-4 where one is (qcc rounds d2 and d3 to three decimals; ours are exact)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rules.spc.subgroups import SUBGROUP_ESTIMATORS, Subgroups
from tests.helpers.spc import spc_eval, subgroup_csv, write_csv

# Public test vectors that ship with R's qcc (see reference/README.md).
REFERENCE = Path(__file__).resolve().parent / "reference"

EXACT = 1e-9
CONSTANT_ROUNDING = 5e-4
CHART_OF_TYPE = {
    "xbar": "xbar-r",
    "R": "xbar-r",
    "S": "xbar-s",
    "p": "p",
    "np": "np",
    "c": "c",
    "u": "u",
}
NELSON = {str(n): f"N{n}" for n in range(1, 9)}
WESTERN_ELECTRIC = {"1": "WE1", "5": "WE2", "6": "WE3", "2": "WE4"}


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REFERENCE / f"{name}.json").read_text())
    return data


def _chart_checks() -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, check)
        for name in ("pistonrings", "orangejuice", "circuit")
        for check in _load(name)["checks"]
        if check["fn"] == "qcc"
    ]


def _rows(data: dict[str, Any], params: dict[str, Any]) -> list[int]:
    source = data["input"]
    total = len(source["groups"] if source["kind"] == "subgroups" else source["counts"])
    if "select_rows" in params:
        return [row - 1 for row in params["select_rows"]]
    return list(range(params.get("first_rows", total)))


def _input_file(tmp_path: Path, data: dict[str, Any], rows: list[int]) -> Path:
    source = data["input"]
    if source["kind"] == "subgroups":
        return subgroup_csv(tmp_path / "data.csv", [source["groups"][r] for r in rows])
    table = [(source["counts"][r], source["sizes"][r]) for r in rows]
    return write_csv(tmp_path / "data.csv", ["count", "size"], table)


def _close(actual: Any, expected: Any, rel: float) -> None:
    actual_array = np.asarray(actual, dtype=float)
    expected_array = np.broadcast_to(np.asarray(expected, dtype=float), actual_array.shape)
    np.testing.assert_allclose(actual_array, expected_array, rtol=rel, atol=1e-15)


@pytest.mark.parametrize(
    ("name", "check"), _chart_checks(), ids=lambda v: v if isinstance(v, str) else v["label"]
)
def test_chart_matches_qcc(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, check: dict[str, Any]
) -> None:
    data = _load(name)
    params, expected = check["params"], check["expected"]
    args = [
        "--chart",
        CHART_OF_TYPE[params["type"]],
        "--input",
        str(_input_file(tmp_path, data, _rows(data, params))),
    ]
    if "phase1_rows" in params:
        args += ["--phase1", str(params["phase1_rows"])]
    result = spc_eval(capsys, *args)
    chart = result["secondary"] if params["type"] in ("R", "S") else result
    uses_d2 = params["type"] in ("xbar", "R")
    rel = CONSTANT_ROUNDING if uses_d2 else EXACT
    _close(chart["statistic"], expected["statistics"], EXACT)
    _close(chart["center"], expected["center"], EXACT)
    _close(chart["sigma"], expected["std_dev"], rel)
    _close(chart["lcl"], expected["limits"]["lcl"], rel)
    _close(chart["ucl"], expected["limits"]["ucl"], rel)
    rules = check["expected_qcc3_rules"]
    for test, key in NELSON.items():
        assert chart["violations"][test] == rules["nelson"][key], f"test {test}"
    western = spc_eval(capsys, *args, "--rules", "western-electric")
    western_chart = western["secondary"] if params["type"] in ("R", "S") else western
    assert set(western_chart["violations"]) == set(WESTERN_ELECTRIC)
    for test, key in WESTERN_ELECTRIC.items():
        assert western_chart["violations"][test] == rules["western_electric"][key]


def test_piston_ring_capability_matches_qcc(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _load("pistonrings")
    (check,) = [c for c in data["checks"] if c["fn"] == "capability"]
    path = subgroup_csv(tmp_path / "rings.csv", data["input"]["groups"])
    result = spc_eval(
        capsys,
        "--chart",
        "xbar-r",
        "--input",
        str(path),
        "--phase1",
        "25",
        "--lsl",
        "73.95",
        "--usl",
        "74.05",
    )
    capability = result["capability"]
    indices = check["expected"]["indices"]
    for ours, theirs in (
        ("cp", "Cp"),
        ("cpk", "Cp_k"),
        ("cpl", "Cp_l"),
        ("cpu", "Cp_u"),
        ("cpm", "Cpm"),
    ):
        _close(capability[ours], indices[theirs]["value"], CONSTANT_ROUNDING)
    _close(capability["cp_ci"], [indices["Cp"]["lower"], indices["Cp"]["upper"]], CONSTANT_ROUNDING)
    _close(
        capability["cpk_ci"],
        [indices["Cp_k"]["lower"], indices["Cp_k"]["upper"]],
        CONSTANT_ROUNDING,
    )
    overall = check["expected_qcc3_capability"]["indices"]
    _close(capability["pp"], overall["Pp"]["value"], EXACT)
    _close(capability["ppk"], overall["Pp_k"]["value"], EXACT)


def test_headline_values_of_the_textbook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rings = _load("pistonrings")["input"]["groups"]
    result = spc_eval(
        capsys, "--chart", "xbar-r", "--input", str(subgroup_csv(tmp_path / "r.csv", rings[:25]))
    )
    assert result["center"] == pytest.approx(74.00118, abs=5e-6)
    assert result["ucl"][0] == pytest.approx(74.01430, abs=5e-5)
    circuit = _load("circuit")["input"]
    path = write_csv(tmp_path / "c.csv", ["count"], [[c] for c in circuit["counts"][:26]])
    result = spc_eval(capsys, "--chart", "c", "--input", str(path))
    assert result["center"] == pytest.approx(19.84615, abs=5e-6)
    assert (result["lcl"][0], result["ucl"][0]) == pytest.approx((6.48145, 33.21086), abs=5e-6)


@pytest.mark.parametrize("method", ["uwave-r", "mvlue-r", "uwave-sd", "mvlue-sd", "rmsdf"])
def test_sigma_estimators_match_qcc(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], method: str
) -> None:
    data = _load("pistonrings")
    (check,) = [c for c in data["checks"] if c["fn"] == "sd_estimators"]
    expected = check["expected"][method.upper()]
    rel = CONSTANT_ROUNDING if method.endswith("-r") else EXACT
    groups = Subgroups.from_groups(data["input"]["groups"][:25])
    _close(SUBGROUP_ESTIMATORS[method](groups), expected, rel)
    path = subgroup_csv(tmp_path / "rings.csv", data["input"]["groups"][:25])
    result = spc_eval(capsys, "--chart", "xbar-r", "--input", str(path), "--sigma-method", method)
    _close(result["sigma"], expected, rel)
