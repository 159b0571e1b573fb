"""The bounded types of the API's query and path parameters (contract/bounds.py's, sized
for the hub's columns), so every router refuses the same values the same way (422)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import Field

from contract.bounds import INT32_MAX, INT64_MAX, Text

MAX_LIST = 100
"""At most this many values of one repeated query parameter (``?line=a&line=b``)."""

Word = Annotated[Text, Field(min_length=1, max_length=64)]
"""A line, station, area, call type or characteristic as a query asks for it."""

Cursor = Annotated[int, Field(ge=0, le=INT32_MAX)]
"""A page's ``next_cursor`` of an INTEGER row id (calls, anomalies): PostgreSQL refuses a
larger number compared with such a column, as if the database had failed."""

BigCursor = Annotated[int, Field(ge=0, le=INT64_MAX)]
"""A page's ``next_cursor`` of a BIGINT row id (the audit log, SPC points)."""

Words = Annotated[list[Word], Query(default_factory=list, max_length=MAX_LIST)]
"""A repeated query parameter (``?line=a&line=b``); none given: empty. A plain array in
the document (not "array or null"): a fuzzer then knows that ``?line=false`` is a line."""
