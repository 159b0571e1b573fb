"""/api/login and /api/logout: a person's name and password for a bearer token of one
shift, and its end. Wrong name and wrong password are one answer; repeated failures of a
name or an address wait longer each time (hub/access/failed_sign_ins.py), never lock out."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials

from contract.wire import utc_now
from hub.access.credentials import DirectoryUnavailable, check_credentials
from hub.access.failed_sign_ins import FailurePolicy
from hub.access.permissions import Permission
from hub.access.sign_ins import SignIns
from hub.api.account_schemas import LoginIn, LoginOut
from hub.api.auth import BEARER, Principal, allowed
from hub.api.dependencies import (
    AccountsDep,
    FailedSignInsDep,
    LiveConfigDep,
    MetricsDep,
    StoreDep,
)
from hub.config.auth import AuthConfig

log = logging.getLogger(__name__)

router = APIRouter(tags=["sign-in"])

REFUSED = "wrong name or password"


def failure_policy(auth: AuthConfig) -> FailurePolicy:
    f = auth.failed_sign_ins
    return FailurePolicy(
        free=f.free, delay_s=f.delay_s, max_delay_s=f.max_delay_s, window_s=f.window_s
    )


@router.post(
    "/api/login",
    responses={
        401: {"description": "wrong name or password (one answer for both)"},
        503: {"description": "only the directory could tell, and it cannot be reached"},
    },
)
async def login(
    *,
    body: LoginIn,
    request: Request,
    config: LiveConfigDep,
    accounts: AccountsDep,
    store: StoreDep,
    failures: FailedSignInsDep,
    metrics: MetricsDep,
) -> LoginOut:
    """Sign in with a name and password: a bearer token until ``expires_at``."""
    auth = config.current.auth
    failures.policy = failure_policy(auth)  # a reload reaches the next attempt
    address = request.client.host if request.client else "unknown"
    keys = (f"name:{body.username.casefold()}", f"address:{address}")
    wait = failures.delay(keys, time.monotonic())
    if wait > 0:
        await asyncio.sleep(wait)
    try:
        account = await asyncio.to_thread(
            check_credentials, accounts, auth, body.username, body.password, utc_now()
        )
    except DirectoryUnavailable as exc:
        metrics.sign_in_failures.labels("directory").inc()
        log.warning("sign-in of %r: %s", body.username, exc)
        raise HTTPException(
            503, "the directory cannot be reached: try again, or sign in with a local account"
        ) from None
    if account is None:
        count = failures.failed(keys, time.monotonic())
        metrics.sign_in_failures.labels("password").inc()
        log.warning(
            "sign-in refused: %r from %s (%d failures in the window)", body.username, address, count
        )
        raise HTTPException(401, REFUSED, headers={"WWW-Authenticate": "Bearer"})
    failures.succeeded(keys[0])
    started = await asyncio.to_thread(
        SignIns(store).start, account, hours=auth.session_hours, address=address, now=utc_now()
    )
    metrics.sign_ins.labels(str(account.source)).inc()
    log.info("%s signed in from %s until %s", account.name, address, started.expires_at)
    return LoginOut(
        token=started.token, name=account.name, role=account.role, lines=list(account.lines),
        expires_at=started.expires_at,
    )  # fmt: skip


@router.post(
    "/api/logout",
    status_code=204,
    responses={409: {"description": "an API token: an admin revokes it, nobody signs it out"}},
)
def logout(
    store: StoreDep,
    who: Annotated[Principal, allowed(Permission.READ)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> None:
    """End the request's sign-in: its token is refused from now on."""
    if who.account is None or credentials is None:
        raise HTTPException(409, "this is an API token, not a sign-in: an admin revokes it")
    SignIns(store).end(credentials.credentials, now=utc_now())
