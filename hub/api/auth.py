"""Bearer tokens on every API route: 401 without a valid token, 403 without the right."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from contract.wire import utc_now
from hub.access.permissions import Permission, Role, allows
from hub.access.sign_ins import holder_of
from hub.access.tokens import TokenInfo, TokenStore
from hub.api.dependencies import TokensDep

# Where hub/api/gate.py leaves the token it found in the request's state.
TOKEN_STATE = "api_token"  # noqa: S105  # a state key, not a secret


@dataclass(frozen=True)
class Principal:
    """The holder of the token of a request."""

    name: str
    role: Role
    lines: tuple[str, ...]  # empty: every line
    account: str | None = None  # a signed-in person's account; None: an API token

    def check_line(self, line: str) -> None:
        if self.lines and line not in self.lines:
            raise HTTPException(
                403, f"token {self.name!r} is limited to lines {', '.join(self.lines)}"
            )


def bearer_token(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def principal(request: Request, tokens: TokenStore, authorization: str | None) -> Principal:
    info: TokenInfo | None = getattr(request.state, TOKEN_STATE, None)
    if info is None:  # a route outside /api, which the gate does not look at
        token = bearer_token(authorization)
        info = None if token is None else holder_of(tokens.store, token, utc_now())
    if info is None:
        raise HTTPException(
            401, "a valid API token is needed", headers={"WWW-Authenticate": "Bearer"}
        )
    return Principal(info.name, info.role, info.lines, info.account)


# Declared as a security scheme, so the OpenAPI page at /docs has an "Authorize" button.
BEARER = HTTPBearer(auto_error=False, description="an API token from `andon token create`")


def require(permission: Permission) -> Callable[..., Principal]:
    """A dependency that admits a token whose role has ``permission``."""

    def dependency(
        request: Request,
        tokens: TokensDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
    ) -> Principal:
        authorization = None if credentials is None else f"Bearer {credentials.credentials}"
        holder = principal(request, tokens, authorization)
        if not allows(holder.role, permission):
            raise HTTPException(403, f"role {holder.role} may not {permission}")
        return holder

    return dependency


def allowed(permission: Permission) -> object:
    """``Annotated[Principal, allowed(...)]``: the route's required permission."""
    return Depends(require(permission))
