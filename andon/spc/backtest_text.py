"""The backtest's report as a table for people: one row per characteristic and rule file.

Figures are rounded to what an engineer compares: capability indices to two decimals,
the in-control average run length to a point (one decimal below 100). The JSON report
(``--json``) keeps every digit.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from andon.spc.backtest import Backtest

CAPABILITY = ("cp", "cpk", "pp", "ppk")
NONE = "-"


def backtest_table(runs: Sequence[Backtest], *, data_name: str) -> str:
    """The table of one backtest, or of several rule files on the same history (two rows
    per characteristic, one per file, side by side)."""
    compared = len(runs) > 1
    names = _names(runs)
    header = ["characteristic", *(["rule file"] if compared else []), "chart", "points"]
    header += ["alarms", "tests (points)", "first alarm", "in-control ARL"]
    header += ["Cp", "Cpk", "Pp", "Ppk"]
    rows = [header]
    for characteristic in _ids(runs):
        label = characteristic  # on the first of its rows only
        for run in runs:
            item = _item(run, characteristic)
            if item is None:
                continue
            file_column = [names[run.rules_path]] if compared else []
            rows.append([label, *file_column, *_cells(item, run.alarm_points)])
            label = ""
    title = " and ".join(names[run.rules_path] for run in runs)
    lines = [f"{title} on {data_name}", "", *_aligned(rows)]
    for run in runs:
        where = f"{names[run.rules_path]}: " if compared else ""
        unseen = [item["id"] for item in run.report["characteristics"] if "note" in item]
        if unseen:
            lines.append(f"{where}no rows in the history: {', '.join(unseen)}")
        missing = run.report["not_in_rule_file"]
        if missing:
            lines.append(f"{where}in the history but not in the rule file: {', '.join(missing)}")
    return "\n".join(lines)


def _names(runs: Sequence[Backtest]) -> dict[Path, str]:
    """Each rule file by its name, or by its path as given where two names are the same
    (``old/rules.yaml`` against ``new/rules.yaml``)."""
    paths = [run.rules_path for run in runs]
    short = [path.name for path in paths]
    return {path: str(path) if short.count(path.name) > 1 else path.name for path in paths}


def _ids(runs: Sequence[Backtest]) -> list[str]:
    """Every characteristic of the rule files, in the order the files name them."""
    ids: dict[str, None] = {}
    for run in runs:
        ids.update((item["id"], None) for item in run.report["characteristics"])
    return list(ids)


def _item(run: Backtest, characteristic: str) -> dict[str, Any] | None:
    items = run.report["characteristics"]
    return next((item for item in items if item["id"] == characteristic), None)


def _cells(item: dict[str, Any], alarm_points: dict[str, int]) -> list[str]:
    if "note" in item:  # no rows in the history
        return [item["chart"], str(item["points"]), *[NONE] * (4 + len(CAPABILITY))]
    by_test = [f"{test} ({count})" for test, count in item["alarms"].items() if count]
    first = item["first_alarm"]
    capability = item.get("capability", {})
    return [
        item["chart"],
        str(item["points"]),
        str(alarm_points[item["id"]]),
        ", ".join(by_test) or NONE,
        str(first["index"]) if first else NONE,
        _run_length(item["in_control_arl"]),
        *(_index(capability.get(name)) for name in CAPABILITY),
    ]


def _run_length(arl: dict[str, Any]) -> str:
    """The in-control ARL; ``+`` when some simulated series never alarmed (the true value
    is longer), ``-`` with no test enabled."""
    value = arl["value"]
    if value is None:
        return NONE
    text = f"{value:.0f}" if value >= 100 else f"{value:.1f}"
    return text + ("+" if arl["censored"] else "")


def _index(value: float | None) -> str:
    return NONE if value is None else f"{value:.2f}"


def _aligned(rows: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell: text to the left, figures (and their
    heading) to the right."""
    columns = list(zip(*rows, strict=True))
    widths = [max(map(len, column)) for column in columns]
    figures = [all(map(_is_figure, column[1:])) for column in columns]
    return [
        "  ".join(
            cell.rjust(width) if figure else cell.ljust(width)
            for cell, width, figure in zip(row, widths, figures, strict=True)
        ).rstrip()
        for row in rows
    ]


def _is_figure(cell: str) -> bool:
    return cell == NONE or cell.rstrip("+").replace(".", "", 1).isdigit()
