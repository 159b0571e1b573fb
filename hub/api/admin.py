"""/api/admin and /api/audit: configuration reloads, API tokens and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from contract.wire import Name, utc_now
from hub.access.audit import list_audit
from hub.access.permissions import Permission
from hub.access.tokens import TokenNameTaken, TokenNotFound, TokenRefused
from hub.api.auth import Principal, allowed
from hub.api.dependencies import LiveConfigDep, StoreDep, TokensDep
from hub.api.parameters import BigCursor
from hub.api.schemas import AuditEntryOut, AuditPage, NewTokenOut, ReloadOut, TokenIn, TokenOut
from hub.db.paging import DEFAULT_PAGE, MAX_PAGE, split_page

router = APIRouter(tags=["admin"])


@router.post(
    "/api/admin/reload",
    responses={
        422: {"description": "the file has errors (in config_errors): the running one is kept"}
    },
)
def reload(
    config: LiveConfigDep, who: Annotated[Principal, allowed(Permission.RELOAD)]
) -> ReloadOut:
    """Re-read the hub's YAML file; an invalid file keeps the running configuration."""
    status = config.reload(actor=who.name, now=utc_now())
    if not status.ok:
        message = "the configuration file has errors; the running configuration is kept"
        raise HTTPException(422, detail={"message": message, "config_errors": status.errors})
    return ReloadOut(ok=status.ok, at=status.at, errors=status.errors)


@router.get("/api/admin/config")
def config_status(
    config: LiveConfigDep, _who: Annotated[Principal, allowed(Permission.RELOAD)]
) -> ReloadOut:
    """The last reload: whether it worked, when, and every error if it did not."""
    return ReloadOut(ok=config.status.ok, at=config.status.at, errors=config.status.errors)


@router.get("/api/audit")
def audit(
    store: StoreDep,
    _who: Annotated[Principal, allowed(Permission.AUDIT)],
    cursor: BigCursor | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
) -> AuditPage:
    """The audit log, newest first, a page at a time."""
    rows = list_audit(store.engine, after=cursor, limit=limit)
    page, next_cursor = split_page(rows, limit, lambda row: str(row["id"]))
    return AuditPage(
        entries=[AuditEntryOut.model_validate(row) for row in page], next_cursor=next_cursor
    )


@router.get("/api/admin/tokens")
def list_tokens(
    tokens: TokensDep,
    _who: Annotated[Principal, allowed(Permission.TOKENS)],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
) -> list[TokenOut]:
    """Tokens by name, revoked ones included, at most ``limit`` (a plant has tens)."""
    return [TokenOut.model_validate(t) for t in tokens.list(limit=limit)]


@router.post(
    "/api/admin/tokens",
    status_code=201,
    responses={409: {"description": "the name is taken, or the role cannot have lines"}},
)
def create_token(
    tokens: TokensDep, body: TokenIn, who: Annotated[Principal, allowed(Permission.TOKENS)]
) -> NewTokenOut:
    now = utc_now()
    try:
        token = tokens.create(
            name=body.name, role=body.role, lines=body.lines, actor=who.name, now=now
        )
    except TokenNameTaken as exc:
        raise HTTPException(409, str(exc)) from None
    except TokenRefused as exc:
        # Well-formed, but at odds with what the role is (the whole site's): a conflict.
        raise HTTPException(409, str(exc)) from None
    return NewTokenOut(
        name=body.name, role=body.role, lines=body.lines, created_at=now, revoked_at=None,
        token=token,
    )  # fmt: skip


@router.delete(
    "/api/admin/tokens/{name}",
    status_code=204,
    responses={404: {"description": "no active token"}, 409: {"description": "its own token"}},
)
def revoke_token(
    tokens: TokensDep, name: Name, who: Annotated[Principal, allowed(Permission.TOKENS)]
) -> None:
    """Revoke a token: its next request is refused, and its open streams end."""
    if name == who.name:
        # The last admin token revoking itself would lock the API's admins out.
        raise HTTPException(
            409, "a token cannot revoke itself: use another admin token or andon token revoke"
        )
    try:
        tokens.revoke(name, actor=who.name, now=utc_now())
    except TokenNotFound as exc:
        raise HTTPException(404, str(exc)) from None
