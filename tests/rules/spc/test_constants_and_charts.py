"""Chart constants and chart formulas against closed forms and textbook definitions."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from rules.spc.constants import c4, d2, d3
from tests.helpers.spc import spc_eval, subgroup_csv, write_csv


def test_constants_agree_with_closed_forms() -> None:
    assert d2(2) == pytest.approx(2 / math.sqrt(math.pi), rel=1e-13)
    assert d2(3) == pytest.approx(3 / math.sqrt(math.pi), rel=1e-13)
    assert d3(2) == pytest.approx(math.sqrt(2 - 4 / math.pi), rel=1e-12)
    assert c4(2) == pytest.approx(math.sqrt(2 / math.pi), rel=1e-14)
    assert c4(3) == pytest.approx(math.sqrt(math.pi) / 2, rel=1e-14)


@pytest.mark.parametrize(
    ("n", "d2_table", "d3_table", "c4_table"),
    [
        (4, 2.058751, 0.879808, 0.921318),
        (5, 2.325929, 0.864082, 0.939986),
        (10, 3.077505, 0.797051, 0.972659),
        (25, 3.930629, 0.708441, 0.989640),
    ],
)
def test_constants_agree_with_tables_to_seven_digits(
    n: int, d2_table: float, d3_table: float, c4_table: float
) -> None:
    assert d2(n) == pytest.approx(d2_table, abs=1e-6)
    assert d3(n) == pytest.approx(d3_table, abs=1e-6)
    assert c4(n) == pytest.approx(c4_table, abs=1e-6)


def test_constants_refuse_sizes_out_of_range() -> None:
    with pytest.raises(ValueError, match="2 to 100"):
        d2(101)
    assert d2(100) == pytest.approx(5.015187, abs=1e-6)


def test_varying_subgroup_sizes_give_limits_per_subgroup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    groups = [[10.0, 10.4, 9.8], [10.1, 9.9, 10.3, 10.0, 10.2], [9.7, 10.6], [10.2, 10.0, 9.9]]
    path = subgroup_csv(tmp_path / "g.csv", groups)
    result = spc_eval(capsys, "--chart", "xbar-r", "--input", str(path))
    sizes = np.array([len(g) for g in groups])
    ranges = np.array([max(g) - min(g) for g in groups])
    sigma = float(np.mean(ranges / np.array([d2(int(n)) for n in sizes])))
    grand = sum(sum(g) for g in groups) / sizes.sum()
    assert result["sigma"] == pytest.approx(sigma, rel=1e-12)
    assert result["center"] == pytest.approx(grand, rel=1e-12)
    np.testing.assert_allclose(result["ucl"], grand + 3 * sigma / np.sqrt(sizes), rtol=1e-12)
    r_chart = result["secondary"]
    d2s = np.array([d2(int(n)) for n in sizes])
    d3s = np.array([d3(int(n)) for n in sizes])
    np.testing.assert_allclose(r_chart["center"], d2s * sigma, rtol=1e-12)
    np.testing.assert_allclose(r_chart["ucl"], (d2s + 3 * d3s) * sigma, rtol=1e-12)
    np.testing.assert_allclose(r_chart["lcl"], np.maximum(0, (d2s - 3 * d3s) * sigma))

    s_result = spc_eval(capsys, "--chart", "xbar-s", "--input", str(path))
    c4s = np.array([c4(int(n)) for n in sizes])
    s_sigma = float(np.mean([np.std(g, ddof=1) / c for g, c in zip(groups, c4s, strict=True)]))
    assert s_result["sigma"] == pytest.approx(s_sigma, rel=1e-12)
    np.testing.assert_allclose(s_result["secondary"]["center"], c4s * s_sigma, rtol=1e-12)
    np.testing.assert_allclose(
        s_result["secondary"]["ucl"], (c4s + 3 * np.sqrt(1 - c4s**2)) * s_sigma, rtol=1e-12
    )


def test_individuals_chart_and_its_moving_range_line_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = [5.0, 5.4, 4.9, 5.2, 5.1, 5.6, 4.8, 5.0]
    path = write_csv(tmp_path / "i.csv", ["value"], [[v] for v in values])
    result = spc_eval(capsys, "--chart", "imr", "--input", str(path), "--phase1", "6")
    sigma = np.mean(np.abs(np.diff(values[:6]))) / d2(2)
    assert result["sigma"] == pytest.approx(sigma, rel=1e-12)
    assert result["center"] == pytest.approx(np.mean(values[:6]), rel=1e-12)
    assert result["lcl"] == pytest.approx([np.mean(values[:6]) - 3 * sigma] * 8, rel=1e-12)
    mr = result["secondary"]
    assert mr["chart"] == "mr"
    assert len(mr["statistic"]) == len(values)
    assert mr["statistic"][0] is None
    assert mr["statistic"][1:] == pytest.approx(np.abs(np.diff(values)).tolist())
    assert mr["lcl"][0] is None
    assert mr["ucl"][1] == pytest.approx((d2(2) + 3 * d3(2)) * sigma, rel=1e-12)
    assert mr["center"] == pytest.approx(d2(2) * sigma, rel=1e-12)


def test_known_standard_center_and_sigma(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = subgroup_csv(tmp_path / "g.csv", [[1.0, 2.0, 3.0], [2.0, 2.5, 1.0]])
    result = spc_eval(
        capsys, "--chart", "xbar-r", "--input", str(path), "--center", "2", "--sigma", "0.5"
    )
    assert result["center"] == 2.0
    assert result["sigma"] == 0.5
    assert result["ucl"][0] == pytest.approx(2 + 3 * 0.5 / math.sqrt(3))
    assert result["secondary"]["center"] == pytest.approx(d2(3) * 0.5)


def test_p_chart_with_varying_sample_sizes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    counts, sizes = [4, 9, 2, 7], [50, 120, 40, 80]
    path = write_csv(tmp_path / "p.csv", ["count", "size"], list(zip(counts, sizes, strict=True)))
    result = spc_eval(capsys, "--chart", "p", "--input", str(path))
    pbar = sum(counts) / sum(sizes)
    expected_ucl = pbar + 3 * np.sqrt(pbar * (1 - pbar) / np.array(sizes))
    np.testing.assert_allclose(result["ucl"], expected_ucl, rtol=1e-12)
    np.testing.assert_allclose(result["lcl"], np.maximum(0, 2 * pbar - expected_ucl), atol=1e-15)
    u = spc_eval(capsys, "--chart", "u", "--input", str(path))
    ubar = sum(counts) / sum(sizes)
    np.testing.assert_allclose(u["ucl"], ubar + 3 * np.sqrt(ubar / np.array(sizes)), rtol=1e-12)
    np_chart = spc_eval(capsys, "--chart", "np", "--input", str(path))
    np.testing.assert_allclose(np_chart["center"], np.array(sizes) * pbar, rtol=1e-12)


def test_ewma_limits_are_the_exact_time_varying_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = [10.0, 10.5, 9.5, 10.2, 11.0, 11.4, 11.1, 11.8]
    path = write_csv(tmp_path / "e.csv", ["value"], [[v] for v in values])
    result = spc_eval(
        capsys,
        "--chart",
        "ewma",
        "--input",
        str(path),
        "--center",
        "10",
        "--sigma",
        "1",
        "--lambda",
        "0.3",
        "--nsigmas",
        "2.7",
    )
    lam, z, smoothed = 0.3, 10.0, []
    for value in values:
        z = lam * value + (1 - lam) * z
        smoothed.append(z)
    steps = np.arange(1, len(values) + 1)
    width = 2.7 * np.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * steps)))
    assert result["statistic"] == pytest.approx(smoothed, rel=1e-12)
    np.testing.assert_allclose(result["ucl"], 10 + width, rtol=1e-12)
    np.testing.assert_allclose(result["lcl"], 10 - width, rtol=1e-12)
    assert result["violations"]["1"] == [
        i for i, s in enumerate(smoothed) if abs(s - 10) > width[i]
    ]


def test_cusum_is_the_tabular_cusum_with_head_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = [0.2, -0.5, 1.4, 1.9, 0.8, 1.7, 2.2, -3.1, -2.4, -2.9]
    path = write_csv(tmp_path / "c.csv", ["value"], [[v] for v in values])
    result = spc_eval(
        capsys,
        "--chart",
        "cusum",
        "--input",
        str(path),
        "--center",
        "0",
        "--sigma",
        "1",
        "--k",
        "0.5",
        "--h",
        "4",
        "--head-start",
        "2",
    )
    upper, lower, hi, lo = [], [], 2.0, 2.0
    for value in values:
        hi, lo = max(0.0, hi + value - 0.5), max(0.0, lo - value - 0.5)
        upper.append(hi)
        lower.append(lo)
    assert result["upper"] == pytest.approx(upper)
    assert result["lower"] == pytest.approx(lower)
    assert result["violations"] == {
        "upper": [i for i, v in enumerate(upper) if v > 4],
        "lower": [i for i, v in enumerate(lower) if v > 4],
    }
    assert result["statistic"] == values
    assert result["ucl"] == [4.0] * len(values)
    assert result["lcl"] == [-4.0] * len(values)


def test_one_sided_specification_gives_the_available_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = [5.0, 5.4, 4.9, 5.2, 5.1, 5.6, 4.8, 5.0, 5.3, 5.1]
    path = write_csv(tmp_path / "i.csv", ["value"], [[v] for v in values])
    result = spc_eval(capsys, "--chart", "imr", "--input", str(path), "--usl", "6.5")
    capability = result["capability"]
    sigma, mean = result["sigma"], np.mean(values)
    assert capability["cpu"] == pytest.approx((6.5 - mean) / (3 * sigma))
    assert capability["cpk"] == capability["cpu"]
    assert capability["ppk"] == pytest.approx((6.5 - mean) / (3 * np.std(values, ddof=1)))
    for absent in ("cp", "cpl", "cpm", "pp", "cp_ci"):
        assert capability[absent] is None
    assert capability["cpk_ci"][0] < capability["cpk"] < capability["cpk_ci"][1]
