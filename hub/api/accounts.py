"""/api/admin/users: people's accounts, as ``andon user`` makes and changes them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from contract.wire import utc_now
from hub.access.accounts import (
    AccountNameTaken,
    AccountNotFound,
    AccountRefused,
    unknown_references,
)
from hub.access.passwords import PasswordRefused
from hub.access.permissions import Permission
from hub.api.account_schemas import AccountIn, AccountName, AccountOut, PasswordIn
from hub.api.auth import Principal, allowed
from hub.api.dependencies import AccountsDep, LiveConfigDep
from hub.db.paging import MAX_PAGE

router = APIRouter(tags=["admin"])

Admin = Annotated[Principal, allowed(Permission.ACCOUNTS)]


@router.get("/api/admin/users")
def list_accounts(
    accounts: AccountsDep,
    _who: Admin,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
) -> list[AccountOut]:
    """Accounts by name, disabled ones and the directory's included, at most ``limit``."""
    return [AccountOut.model_validate(a) for a in accounts.list(limit=limit)]


@router.post(
    "/api/admin/users",
    status_code=201,
    responses={
        409: {
            "description": "the name is taken, the role cannot have lines, or a line or "
            "person the hub's file does not know"
        }
    },
)
def create_account(
    accounts: AccountsDep, config: LiveConfigDep, body: AccountIn, who: Admin
) -> AccountOut:
    """A local account; its password is stored as an argon2id hash only."""
    unknown = unknown_references(config.current, lines=body.lines, person=body.person)
    if unknown:
        raise HTTPException(409, unknown)
    try:
        account = accounts.create(
            name=body.name, role=body.role, lines=body.lines, person=body.person,
            password=body.password, actor=who.name, now=utc_now(),
        )  # fmt: skip
    except (AccountNameTaken, AccountRefused) as exc:
        raise HTTPException(409, str(exc)) from None
    return AccountOut.model_validate(account)


@router.post(
    "/api/admin/users/{name}/password",
    status_code=204,
    responses={404: {"description": "no enabled local account"}},
)
def set_password(accounts: AccountsDep, name: AccountName, body: PasswordIn, who: Admin) -> None:
    """A new password; the account's sign-ins end."""
    try:
        accounts.set_password(name, body.password, actor=who.name, now=utc_now())
    except AccountNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except PasswordRefused as exc:
        raise HTTPException(422, str(exc)) from None


@router.post(
    "/api/admin/users/{name}/disable",
    status_code=204,
    responses={
        404: {"description": "no enabled account"},
        409: {"description": "its own account"},
    },
)
def disable_account(accounts: AccountsDep, name: AccountName, who: Admin) -> None:
    """The account cannot sign in any more, and its sign-ins end at once."""
    if name == who.account:
        raise HTTPException(409, "an account cannot disable itself: use another admin")
    try:
        accounts.disable(name, actor=who.name, now=utc_now())
    except AccountNotFound as exc:
        raise HTTPException(404, str(exc)) from None
