"""Read measurement CSV files for the SPC commands, with errors that name row and column.

Rows are numbered from 1 after the header, as a spreadsheet shows data rows.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from rules.spc.subgroups import Subgroups


class InputError(ValueError):
    """Bad input: the message names the file, row and column."""


@dataclass(frozen=True)
class Table:
    path: Path
    header: list[str]
    rows: list[dict[str, str]]

    def require(self, column: str) -> None:
        if column not in self.header:
            raise InputError(
                f"{self.path}: column {column!r} is missing; the header has: "
                f"{', '.join(self.header)}"
            )

    def numbers(
        self, column: str, *, whole: bool = False, positive: bool = False
    ) -> NDArray[np.float64]:
        self.require(column)
        return np.array(
            [
                self._number(row, column, whole=whole, positive=positive)
                for row in range(1, len(self.rows) + 1)
            ]
        )

    def cell(self, row: int, column: str) -> str:
        return (self.rows[row - 1].get(column) or "").strip()

    def _number(self, row: int, column: str, *, whole: bool, positive: bool) -> float:
        text = self.cell(row, column)
        if not text:
            raise self.error(row, column, "empty cell; expected a number")
        try:
            value = float(text)
        except ValueError:
            raise self.error(row, column, f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise self.error(row, column, f"{text!r} is not a finite number")
        if whole and (value < 0 or value != int(value)):
            raise self.error(row, column, f"{text!r} is not a whole number of at least 0")
        if positive and value <= 0:
            raise self.error(row, column, f"{text!r} must be above 0")
        return value

    def error(self, row: int, column: str, message: str) -> InputError:
        return InputError(f"{self.path}: row {row}, column {column!r}: {message}")


def read_table(path: Path) -> Table:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or []]
            reader.fieldnames = header
            rows = list(reader)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: not a readable CSV file: {exc}") from None
    if not header:
        raise InputError(f"{path}: the file is empty; expected a header row and data rows")
    if not rows:
        raise InputError(f"{path}: no data rows after the header")
    return Table(path, header, rows)


def subgroup_runs(table: Table) -> Iterator[tuple[int, str, list[int]]]:
    """(first row, label, rows) of each run of consecutive rows with the same label."""
    table.require("subgroup")
    start, label = 1, ""
    members: list[int] = []
    for row in range(1, len(table.rows) + 1):
        current = table.cell(row, "subgroup")
        if not current:
            raise table.error(row, "subgroup", "empty cell; expected a subgroup label")
        if members and current != label:
            yield start, label, members
            start, members = row, []
        label = current
        members.append(row)
    yield start, label, members


def read_subgroups(table: Table, *, min_size: int, chart: str) -> Subgroups:
    values = table.numbers("value")
    groups = []
    for first_row, label, rows in subgroup_runs(table):
        if len(rows) < min_size:
            raise table.error(
                first_row,
                "subgroup",
                f"subgroup {label!r} has only {len(rows)} value; "
                f"{chart} needs at least {min_size} per subgroup",
            )
        groups.append([values[row - 1] for row in rows])
    return Subgroups.from_groups(groups)


def read_counts(
    table: Table, *, need_size: bool, at_most_size: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    counts = table.numbers("count", whole=True)
    if not need_size:
        return counts, np.ones(len(counts))
    sizes = table.numbers("size", positive=True)
    if at_most_size:
        for row, (count, size) in enumerate(zip(counts, sizes, strict=True), start=1):
            if size != int(size):
                raise table.error(row, "size", f"{size:g} is not a whole number of items")
            if count > size:
                raise table.error(row, "count", f"count {count:g} is above its size {size:g}")
    return counts, sizes
