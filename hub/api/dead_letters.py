"""/api/dead-letters: the messages ingest set aside, for an admin to read.

A message lands there when the wire contract let it through but the database refused
its content (or the hub failed on it); the rest of its batch was applied. Its payload
is returned as received, base64-encoded (it may hold any byte)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hub.access.permissions import Permission
from hub.api.auth import Principal, allowed
from hub.api.dependencies import StoreDep
from hub.api.parameters import BigCursor
from hub.api.schemas import DeadLetterOut, DeadLetterPage
from hub.db.paging import DEFAULT_PAGE, MAX_PAGE, split_page
from hub.edges.dead_letters import list_dead_letters

router = APIRouter(tags=["admin"])


@router.get("/api/dead-letters")
def dead_letters(
    store: StoreDep,
    _who: Annotated[Principal, allowed(Permission.AUDIT)],
    cursor: BigCursor | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
) -> DeadLetterPage:
    """Messages set aside, newest first, a page at a time."""
    rows = list_dead_letters(store.engine, after=cursor, limit=limit)
    page, next_cursor = split_page(rows, limit, lambda row: str(row["id"]))
    return DeadLetterPage(
        letters=[DeadLetterOut.model_validate(row) for row in page], next_cursor=next_cursor
    )
