"""/api/token: who the request's token is, so a page shows only the actions it may take
(a viewer's chart page offers no "raise a call"). The API still decides every action."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hub.access.permissions import Permission, allows
from hub.api.auth import Principal, allowed

router = APIRouter(tags=["system"])


class TokenOut(BaseModel):
    """The holder of a token: its name, role, lines and what the role permits."""

    name: str
    role: str
    lines: list[str] = Field(description="the lines it may read and act on; [] for every line")
    permissions: list[str] = Field(description="what its role may do (docs/access.md)")


@router.get("/api/token")
def token_info(who: Annotated[Principal, allowed(Permission.READ)]) -> TokenOut:
    """The request's own token: name, role, lines and permissions (never the secret)."""
    permitted = [p.value for p in Permission if allows(who.role, p)]
    return TokenOut(
        name=who.name, role=who.role.value, lines=list(who.lines), permissions=permitted
    )
