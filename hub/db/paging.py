"""Pages keyed by id: a cursor is the last id of a page, so a page stays right while new
rows arrive, and every query has a bound."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

DEFAULT_PAGE = 100
MAX_PAGE = 1000

T = TypeVar("T")


def split_page(
    rows: Sequence[T], limit: int, cursor_of: Callable[[T], str]
) -> tuple[list[T], str | None]:
    """A page of ``rows`` (read with one row more than ``limit``) and the next page's cursor."""
    page = list(rows[:limit])
    return page, cursor_of(page[-1]) if len(rows) > limit else None
